using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Issues;

/// <summary>A problem an inspection round raised (问题), possibly with sub-issues.</summary>
public sealed record IssueResponse
{
    public required long Id { get; init; }
    [Description("Code of the round that raised the issue.")]
    public required string Round { get; init; }
    public long? ParentId { get; init; }
    [Description("Code unique in its round, e.g. 1 or 2.1.")]
    public required string Code { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public string? Category { get; init; }
    public string? LeadUnit { get; init; }
    public string? ResponsibleLeader { get; init; }
    public required IssueState State { get; init; }
    public DateOnly? DueDate { get; init; }
    [Description("Derived: open or in progress and past its due date (today in the configured time zone).")]
    public required bool Overdue { get; init; }
    [Description("Derived: mean progress (0–100) of its measures that are not cancelled; null when it has none.")]
    public decimal? Progress { get; init; }
    public required int MeasureCount { get; init; }
    [Description("States the issue may move to next (pending_review through POST …/sign-offs, closed and back to in_progress through the "
        + "submission's decision; a closed issue through POST …/reopen).")]
    public required IReadOnlyList<IssueState> AllowedTransitions { get; init; }
    [Description("The request for sign-off (申请销号), once made.")]
    public IssueReview? Review { get; init; }
    [Description("The sign-off (销号), once closed.")]
    public IssueClosure? Closure { get; init; }
    [Description("Derived (巩固): closed, and today (in the configured time zone) is on or before the accepted sign-off's watchUntil.")]
    public bool Consolidating { get; init; }
    public required DateTime CreatedAt { get; init; }
    public required DateTime UpdatedAt { get; init; }

    [Description("Sub-issues (only on GET of one issue).")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<IssueResponse>? SubIssues { get; init; }

    [Description("Measures taken against the issue (only on GET of one issue).")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<MeasureResponse>? Measures { get; init; }

    [Description("The due date before its first change through POST …/deadline; the due date itself while it never moved (null without one).")]
    public DateOnly? OriginalDueDate { get; init; }
    [Description("How many times the due date was deferred (moved to a later date) through POST …/deadline; moves to an earlier date do not count.")]
    public required int DeferralCount { get; init; }
    [Description("Derived warning level (提醒预警) while open or in progress: red when overdue, yellow when due within Rectify:DueSoonDays (10), "
        + "notice within Rectify:NoticeDays (20); null otherwise (and without a due date).")]
    public Warnings.WarningLevel? WarningLevel { get; init; }
}

public sealed record IssueReview(DateTime RequestedAt, string RequestedBy, string? Note);

/// <summary>The sign-off: when, by whom (the reviewing client), its comment, and the watch-until date of consolidation (巩固), if any.</summary>
public sealed record IssueClosure(DateOnly ClosedOn, string Reviewer, string Conclusion, DateTime ClosedAt)
{
    [Description("Consolidation (巩固): the issue is listed as consolidating until this date (inclusive).")]
    public DateOnly? WatchUntil { get; init; }
}

/// <summary>The fields a caller sets on an issue, shared by create and update.</summary>
public abstract record IssueFields
{
    [Description("Title of the problem, e.g. 殡葬改革推行不力.")]
    [StringLength(500, MinimumLength = 1)]
    public required string Title { get; init; }

    [StringLength(20000)]
    public string? Description { get; init; }

    [Description("Problem area, e.g. 殡葬管理.")]
    [StringLength(100, MinimumLength = 1)]
    public string? Category { get; init; }

    [Description("Code of the lead unit, e.g. HNMZT.SHSW.")]
    [StringLength(32, MinimumLength = 1)]
    public string? LeadUnit { get; init; }

    [Description("Responsible leader (a role), e.g. 厅党组书记、厅长.")]
    [StringLength(200)]
    public string? ResponsibleLeader { get; init; }

    public DateOnly? DueDate { get; init; }
}

public sealed record CreateIssueRequest : IssueFields
{
    [Description("Code of the round that raised the issue.")]
    [StringLength(64, MinimumLength = 1)]
    public required string Round { get; init; }

    [Description("Code unique in the round, e.g. 2.1.")]
    [Required(ErrorMessage = Codes.ItemPatternMessage)] // RegularExpression lets an empty string through
    [RegularExpression(Codes.ItemPattern, ErrorMessage = Codes.ItemPatternMessage)]
    public required string Code { get; init; }

    [Description("Id of the parent issue (same round) when this is a sub-issue.")]
    [Range(1, long.MaxValue)]
    public long? ParentId { get; init; }
}

public sealed record UpdateIssueRequest : IssueFields
{
    [Description("New state: open, in_progress or long_term here; pending_review through POST …/sign-offs, and out of it through the "
        + "submission's decision.")]
    public required IssueState State { get; init; }
}

public sealed record ReviewIssueRequest
{
    [Description("What was done and why the issue can be signed off.")]
    [StringLength(5000)]
    public string? Note { get; init; }
}

public sealed record ReopenIssueRequest
{
    [Description("Why the signed-off issue is reopened (e.g. the problem came back).")]
    [StringLength(2000, MinimumLength = 1)]
    public required string Reason { get; init; }
}

public sealed record IssueListQuery : PageRequest
{
    [Description("Only issues of this round (code).")]
    public string? Round { get; init; }

    [Description("Only issues in this state.")]
    public string? State { get; init; }

    [Description("Only issues of this problem area (category), e.g. 殡葬.")]
    public string? Category { get; init; }

    [Description("Only issues led by this unit (code).")]
    public string? LeadUnit { get; init; }

    [Description("Only sub-issues of this issue id.")]
    public long? Parent { get; init; }

    [Description("true: only top-level issues; false: only sub-issues.")]
    public bool? TopLevel { get; init; }

    [Description("true: only overdue issues; false: only issues that are not overdue.")]
    public bool? Overdue { get; init; }

    [Description("Text to find in the code, title or description (Chinese or not, case-insensitive).")]
    [StringLength(200)]
    public string? Q { get; init; }

    [Description("true: only issues deferred at least once (deferralCount above 0); false: only issues never deferred.")]
    public bool? Deferred { get; init; }
    [Description("Only issues at this warning level (notice, yellow, red).")]
    public string? Warning { get; init; }
    [Description("true: only issues under consolidation (巩固: closed, today on or before watchUntil); false: only the others.")]
    public bool? Consolidating { get; init; }
}

/// <summary>A blocking item named when an issue cannot be closed.</summary>
public sealed record BlockingItem(long Id, string Code, string Title, string State);

sealed class IssueRow : IVersionedRow
{
    public long Id { get; init; }
    public long RoundId { get; init; }
    public string RoundCode { get; init; } = "";
    public long? ParentId { get; init; }
    public string Code { get; init; } = "";
    public string Title { get; init; } = "";
    public string? Description { get; init; }
    public string? Category { get; init; }
    public string? LeadUnitCode { get; init; }
    public string? ResponsibleLeader { get; init; }
    public string State { get; init; } = "";
    public DateOnly? DueDate { get; init; }
    public DateTime? ReviewRequestedAt { get; init; }
    public string? ReviewRequestedBy { get; init; }
    public string? ReviewNote { get; init; }
    public DateTime? ClosedAt { get; init; }
    public DateOnly? ClosedOn { get; init; }
    public string? Reviewer { get; init; }
    public string? Conclusion { get; init; }
    public int Version { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public bool Overdue { get; init; }
    public decimal? Progress { get; init; }
    public int MeasureCount { get; init; }
    public DateOnly? OriginalDueDate { get; init; }
    public int DeferralCount { get; init; }
    public string? WarningLevel { get; init; }
    public DateOnly? WatchUntil { get; init; }
    public bool Consolidating { get; init; }

    public IssueState StateValue => EnumText.Parse<IssueState>(State);

    public IssueResponse ToResponse() => new()
    {
        Id = Id, Round = RoundCode, ParentId = ParentId, Code = Code, Title = Title, Description = Description, Category = Category,
        LeadUnit = LeadUnitCode, ResponsibleLeader = ResponsibleLeader, State = StateValue, DueDate = DueDate, Overdue = Overdue,
        Progress = Progress is { } p ? Math.Round(p, 1) : null, MeasureCount = MeasureCount,
        AllowedTransitions = IssueStates.AllowedFrom(StateValue),
        Review = ReviewRequestedAt is { } at ? new IssueReview(at, ReviewRequestedBy ?? "", ReviewNote) : null,
        Closure = ClosedOn is { } on ? new IssueClosure(on, Reviewer ?? "", Conclusion ?? "", ClosedAt ?? default) { WatchUntil = WatchUntil } : null,
        Consolidating = Consolidating,
        CreatedAt = CreatedAt, UpdatedAt = UpdatedAt, OriginalDueDate = OriginalDueDate, DeferralCount = DeferralCount,
        WarningLevel = WarningLevel is null ? null : EnumText.Parse<Warnings.WarningLevel>(WarningLevel),
    };
}
