using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Rectify.Api.Features.Deadlines;

/// <summary>A new due date for an issue or a measure, and why it moves.</summary>
public sealed record ChangeDeadlineRequest
{
    [Description("The new due date.")]
    public required DateOnly DueDate { get; init; }

    [Description("Why the due date moves (调整理由), kept with the change and named in the journal.")]
    [StringLength(2000, MinimumLength = 1)]
    public required string Reason { get; init; }
}

/// <summary>
/// One move of a due date (完成时限调整): from which date to which, why, by whom and when. A move to a later date is a
/// deferral (延期); a move to an earlier date is kept as well but is not one.
/// </summary>
public sealed record DeadlineChangeResponse
{
    public required long Id { get; init; }
    [Description("The issue whose due date moved; null for a measure's.")]
    public long? IssueId { get; init; }
    [Description("The measure whose due date moved; null for an issue's.")]
    public long? MeasureId { get; init; }
    [Description("The due date before the change; null when an issue without one got its first.")]
    public DateOnly? PreviousDueDate { get; init; }
    public required DateOnly DueDate { get; init; }
    public required string Reason { get; init; }
    [Description("true when the new date is later than the previous one (a deferral, 延期); false for an earlier date or a first one.")]
    public required bool Deferral { get; init; }
    [Description("The calling system that moved it.")]
    public required string ChangedBy { get; init; }
    public required DateTime ChangedAt { get; init; }
}
