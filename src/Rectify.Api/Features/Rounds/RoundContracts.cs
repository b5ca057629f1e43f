using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Rounds;

/// <summary>planned → inspecting → rectifying (整改) → consolidating (巩固) → closed.</summary>
public enum RoundState { Planned, Inspecting, Rectifying, Consolidating, Closed }

/// <summary>One inspection (巡视) of one unit.</summary>
public sealed record RoundResponse(
    string Code,
    string Name,
    string? NameEn,
    string InspectedUnit,
    string InspectionBody,
    DateOnly InspectionStart,
    DateOnly InspectionEnd,
    DateOnly? FeedbackDate,
    DateOnly? RectificationDeadline,
    RoundState State,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>The fields a caller sets on a round, shared by create and update.</summary>
public abstract record RoundFields
{
    [Description("Name of the round, e.g. 八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视.")]
    [StringLength(300, MinimumLength = 1)]
    public required string Name { get; init; }

    [StringLength(300)]
    public string? NameEn { get; init; }

    [Description("Code of the inspected unit, e.g. HNMZT.")]
    [StringLength(32, MinimumLength = 1)]
    public required string InspectedUnit { get; init; }

    [Description("Who inspected, e.g. 八届省委第六轮巡视第六巡视组.")]
    [StringLength(300, MinimumLength = 1)]
    public required string InspectionBody { get; init; }

    public required DateOnly InspectionStart { get; init; }
    public required DateOnly InspectionEnd { get; init; }

    [Description("Date the inspection's findings were fed back (反馈).")]
    public DateOnly? FeedbackDate { get; init; }

    [Description("End of the concentrated rectification period.")]
    public DateOnly? RectificationDeadline { get; init; }

    public required RoundState State { get; init; }
}

public sealed record CreateRoundRequest : RoundFields
{
    [Description("Stable code of the round, e.g. HN-8-6-6.")]
    [Required(ErrorMessage = Codes.RoundPatternMessage)] // RegularExpression lets an empty string through
    [RegularExpression(Codes.RoundPattern, ErrorMessage = Codes.RoundPatternMessage)]
    public required string Code { get; init; }
}

public sealed record UpdateRoundRequest : RoundFields;

public sealed record RoundListQuery : PageRequest
{
    [Description("Only rounds in this state.")]
    public string? State { get; init; }

    [Description("Only rounds that inspected this unit.")]
    public string? InspectedUnit { get; init; }
}

sealed class RoundRow : IVersionedRow
{
    public long Id { get; init; }
    public string Code { get; init; } = "";
    public string Name { get; init; } = "";
    public string? NameEn { get; init; }
    public string InspectedUnitCode { get; init; } = "";
    public string InspectionBody { get; init; } = "";
    public DateOnly InspectionStart { get; init; }
    public DateOnly InspectionEnd { get; init; }
    public DateOnly? FeedbackDate { get; init; }
    public DateOnly? RectificationDeadline { get; init; }
    public string State { get; init; } = "";
    public int Version { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }

    public RoundResponse ToResponse() => new(Code, Name, NameEn, InspectedUnitCode, InspectionBody, InspectionStart, InspectionEnd,
        FeedbackDate, RectificationDeadline, EnumText.Parse<RoundState>(State), CreatedAt, UpdatedAt);
}
