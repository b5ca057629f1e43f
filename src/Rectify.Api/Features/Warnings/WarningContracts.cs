using System.ComponentModel;
using Rectify.Api.Features.Snapshots;

namespace Rectify.Api.Features.Warnings;

/// <summary>Who a warning level is escalated to (逐级提醒): the unit that owns the item, the issue's lead unit, or its responsible leader.</summary>
public enum EscalationTo { OwnerUnit, LeadUnit, ResponsibleLeader }

public enum WarningItemKind { Issue, Measure }

public sealed class WarningOptions
{
    public const string Section = "Rectify:Warnings";

    /// <summary>Whether this node takes part in the daily job that records level changes (one node does it each day).</summary>
    public bool DailyJob { get; set; } = true;

    /// <summary>How long after midnight (in the configured time zone) the day's run is due.</summary>
    public TimeSpan RunAfter { get; set; } = TimeSpan.Zero;

    /// <summary>How often a node looks whether the day's run is due.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Who each level escalates to (default: notice the owner unit, yellow the lead unit, red the responsible leader).</summary>
    public EscalationOptions Escalation { get; set; } = new();
}

public sealed class EscalationOptions
{
    public EscalationTo Notice { get; set; } = EscalationTo.OwnerUnit;
    public EscalationTo Yellow { get; set; } = EscalationTo.LeadUnit;
    public EscalationTo Red { get; set; } = EscalationTo.ResponsibleLeader;

    /// <summary>
    /// The escalation of an item at <paramref name="level"/>: the configured target, or the next one down the chain that the
    /// item has (responsible leader → lead unit → owner unit) when it lacks it.
    /// </summary>
    public (EscalationTo To, string? Target) For(WarningLevel level, string? ownerUnit, string? leadUnit, string? leader)
    {
        var to = level switch { WarningLevel.Red => Red, WarningLevel.Yellow => Yellow, _ => Notice };
        if (to == EscalationTo.ResponsibleLeader && !string.IsNullOrWhiteSpace(leader)) return (to, leader);
        if (to != EscalationTo.OwnerUnit && leadUnit is not null) return (EscalationTo.LeadUnit, leadUnit);
        return (EscalationTo.OwnerUnit, ownerUnit);
    }
}

/// <summary>The current warnings of a round (提醒预警): counts by level and by owner unit, and every item at a level.</summary>
public sealed record RoundWarningsResponse
{
    public required string Round { get; init; }
    [Description("The day the levels are taken on (today in the configured time zone).")]
    public required DateOnly AsOf { get; init; }
    [Description("Items due up to this day are yellow (Rectify:DueSoonDays after asOf).")]
    public required DateOnly YellowUntil { get; init; }
    [Description("Items due up to this day (and after yellowUntil) are at notice (Rectify:NoticeDays after asOf).")]
    public required DateOnly NoticeUntil { get; init; }
    [Description("Items listed, per level.")]
    public required WarningCounts ByLevel { get; init; }
    [Description("Items listed, per owner unit (a measure's owner, an issue's lead unit), in unit code order.")]
    public required IReadOnlyList<UnitWarnings> ByOwnerUnit { get; init; }
    [Description("The items at a level: red first, then yellow, then notice; within a level the earliest due first.")]
    public required IReadOnlyList<WarningItem> Items { get; init; }
}

public sealed record UnitWarnings(string Unit, string? UnitName, int Notice, int Yellow, int Red);

/// <summary>An issue or measure at a warning level, and who it is escalated to.</summary>
public sealed record WarningItem
{
    public required WarningItemKind Kind { get; init; }
    public required long Id { get; init; }
    public required string Code { get; init; }
    [Description("The issue a measure belongs to (for an issue: itself).")]
    public required long IssueId { get; init; }
    public required string IssueCode { get; init; }
    public required string Title { get; init; }
    [Description("A measure's owner unit; an issue's lead unit.")]
    public string? OwnerUnit { get; init; }
    public string? LeadUnit { get; init; }
    public string? ResponsibleLeader { get; init; }
    public required string State { get; init; }
    public required DateOnly DueDate { get; init; }
    [Description("Days from asOf to the due date; negative when overdue.")]
    public required int DaysLeft { get; init; }
    public required WarningLevel Level { get; init; }
    [Description("The day the daily job recorded the item entering this level; null until it has.")]
    public DateOnly? Since { get; init; }
    [Description("Who the level escalates to (configured per level; down the chain when the item lacks that target).")]
    public required EscalationTo EscalateTo { get; init; }
    [Description("The unit code or the responsible leader the level escalates to.")]
    public string? EscalationTarget { get; init; }
}

/// <summary>A dated change of an item's warning level, as the daily job recorded it.</summary>
public sealed record WarningChangeResponse
{
    public required long Id { get; init; }
    public required WarningItemKind Kind { get; init; }
    public required long ItemId { get; init; }
    public required string Round { get; init; }
    public required string Code { get; init; }
    public string? OwnerUnit { get; init; }
    [Description("The level before; null when the item had none.")]
    public WarningLevel? From { get; init; }
    [Description("The level entered; null when the item left the warnings (finished, or its due date moved away).")]
    public WarningLevel? To { get; init; }
    [Description("The day (configured time zone) the change was recorded.")]
    public required DateOnly ChangedOn { get; init; }
    public DateOnly? DueDate { get; init; }
    public EscalationTo? EscalateTo { get; init; }
    public string? Escalation { get; init; }
    public required DateTime RecordedAt { get; init; }
}

public sealed record RoundWarningsQuery
{
    [Description("Only items at this level (notice, yellow, red).")]
    public string? Level { get; init; }

    [Description("Only items owned by this unit (a measure's owner, an issue's lead unit).")]
    public string? OwnerUnit { get; init; }

    [Description("Only issues or only measures.")]
    public string? Kind { get; init; }
}

/// <summary>What one run of the daily warnings job did.</summary>
public sealed record WarningRun(DateOnly Day, bool Due, bool LockHeldElsewhere, bool AlreadyRan, IReadOnlyList<WarningChangeResponse> Recorded);
