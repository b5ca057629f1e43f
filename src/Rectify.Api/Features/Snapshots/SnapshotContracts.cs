using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;

namespace Rectify.Api.Features.Snapshots;

public enum SnapshotStatus { Draft, Published }

public enum SnapshotOrigin { Pushed, Drafted }

/// <summary>One revision of a monthly progress snapshot (月度进展快照) of a round.</summary>
public sealed record SnapshotResponse
{
    [Description("Code of the round.")]
    public required string Round { get; init; }
    [Description("The month, YYYY-MM.")]
    public required string Period { get; init; }
    [Description("1 for the first version; a correction after publication is 2, 3 …")]
    public required int Revision { get; init; }
    [Description("draft: still changes with every push; published: frozen.")]
    public required SnapshotStatus Status { get; init; }
    [Description("pushed: sent by a calling system; drafted: made from live data by the month-end job.")]
    public required SnapshotOrigin Origin { get; init; }
    [Description("The office's account of the month.")]
    public string? Narrative { get; init; }
    [Description("Why this revision corrects the one before (revisions after the first).")]
    public string? Reason { get; init; }
    [Description("The calling system that made this revision.")]
    public required string CreatedBy { get; init; }
    public required DateTime CreatedAt { get; init; }
    [Description("The calling system that last changed the draft.")]
    public required string UpdatedBy { get; init; }
    public required DateTime UpdatedAt { get; init; }
    public string? PublishedBy { get; init; }
    public DateTime? PublishedAt { get; init; }
    [Description("The state of the round at the end of the month.")]
    public required SnapshotContent Content { get; init; }
}

/// <summary>The state of a round at the end of one month, as frozen in a snapshot.</summary>
public sealed record SnapshotContent
{
    public required string Round { get; init; }
    public required string RoundName { get; init; }
    public required string Period { get; init; }
    [Description("Last day of the month in the configured time zone. Overdue and traffic lights are as on the day after it (the month over).")]
    public required DateOnly MonthEnd { get; init; }
    [Description("When the state was read from the live data.")]
    public required DateTime TakenAt { get; init; }
    [Description("The region whose indicator figures are given (the top region above the inspected unit).")]
    public string? Region { get; init; }
    public required SnapshotSummary Summary { get; init; }
    [Description("Every issue of the round, in code order.")]
    public required IReadOnlyList<SnapshotIssue> Issues { get; init; }
    [Description("Every measure of the round, in issue then code order.")]
    public required IReadOnlyList<SnapshotMeasure> Measures { get; init; }
    [Description("The indicators linked to the round's issues or measures, at the region, for the month (and the period before).")]
    public required IReadOnlyList<SnapshotIndicator> Indicators { get; init; }
}

public sealed record SnapshotSummary
{
    [Description("Issue counts by state (every state present, zeros included).")]
    public required IReadOnlyDictionary<string, int> IssuesByState { get; init; }
    [Description("Measure counts by state (every state present, zeros included).")]
    public required IReadOnlyDictionary<string, int> MeasuresByState { get; init; }
    public required int Issues { get; init; }
    public required int Measures { get; init; }
    public required int OverdueIssues { get; init; }
    public required int OverdueMeasures { get; init; }
    [Description("Issues signed off (closedOn) in the month.")]
    public required int IssuesClosedThisMonth { get; init; }
    [Description("Measures completed (completedOn) in the month.")]
    public required int MeasuresCompletedThisMonth { get; init; }
    [Description("Done measures as a percentage of the measures not cancelled, two decimals; null without measures.")]
    public decimal? CompletionRate { get; init; }
    [Description("Reporting completeness of the month's indicator values (expected reports, those that arrived, and on time).")]
    public required SnapshotCompleteness Reporting { get; init; }
    [Description("Issues whose due date was deferred (moved later through POST …/deadline) at least once; 0 in snapshots taken "
        + "before deferrals were recorded.")]
    public int DeferredIssues { get; init; }
    [Description("Measures whose due date was deferred at least once; 0 in snapshots taken before deferrals were recorded.")]
    public int DeferredMeasures { get; init; }
    [Description("Warnings (提醒预警) of issues and measures: at the end of the month, and entered during it (absent in snapshots "
        + "taken before warnings existed).")]
    public SnapshotWarnings? Warnings { get; init; }
    [Description("The sign-off review (审议 / 销号) in the month, and consolidation (巩固) at its end (absent in snapshots taken "
        + "before sign-offs existed).")]
    public SnapshotSignOffs? SignOffs { get; init; }
}

/// <summary>
/// Sign-off submissions and decisions dated in the month (in the configured time zone), and the issues under consolidation
/// at its end.
/// </summary>
public sealed record SnapshotSignOffs
{
    public required int SubmittedThisMonth { get; init; }
    public required int AcceptedThisMonth { get; init; }
    [Description("Submissions rejected or sent back for changes in the month.")]
    public required int ReturnedThisMonth { get; init; }
    [Description("Closed issues whose watch-until date is on or after the day after the month (巩固).")]
    public required int Consolidating { get; init; }
}

public sealed record SnapshotWarnings
{
    [Description("Issues and measures at each warning level at the end of the month (as on the day after it).")]
    public required WarningCounts AtMonthEnd { get; init; }
    [Description("Issues and measures that entered each level during the month, as the daily warnings job recorded it (e.g. how many reached red).")]
    public required WarningCounts EnteredThisMonth { get; init; }
}

/// <summary>A count of items per warning level.</summary>
public sealed record WarningCounts(int Notice, int Yellow, int Red)
{
    public static WarningCounts Of(IEnumerable<Warnings.WarningLevel?> levels)
    {
        var all = levels.ToList();
        return new(all.Count(l => l == Warnings.WarningLevel.Notice), all.Count(l => l == Warnings.WarningLevel.Yellow),
            all.Count(l => l == Warnings.WarningLevel.Red));
    }
}

public sealed record SnapshotCompleteness(int Expected, int Reported, int OnTime, int Late, int Missing,
    [property: Description("reported / expected in percent, two decimals; null when nothing was expected.")] decimal? Percent);

public sealed record SnapshotIssue
{
    public required long Id { get; init; }
    public required string Code { get; init; }
    public string? ParentCode { get; init; }
    public required string Title { get; init; }
    [Description("Problem area, e.g. 殡葬管理.")]
    public string? Category { get; init; }
    public string? LeadUnit { get; init; }
    public string? ResponsibleLeader { get; init; }
    public required IssueState State { get; init; }
    public DateOnly? DueDate { get; init; }
    public required bool Overdue { get; init; }
    [Description("red when overdue, yellow when due within the configured days, green otherwise; null when closed.")]
    public TrafficLight? TrafficLight { get; init; }
    [Description("Mean progress of its measures that are not cancelled.")]
    public decimal? Progress { get; init; }
    public DateOnly? ClosedOn { get; init; }
    [Description("The due date before its first change; null in snapshots taken before deadline changes were recorded (then the due date).")]
    public DateOnly? OriginalDueDate { get; init; }
    [Description("How many times the due date was deferred (moved later).")]
    public int DeferralCount { get; init; }
    [Description("Consolidation (巩固): the accepted sign-off's watch-until date, when closed with one.")]
    public DateOnly? WatchUntil { get; init; }
    [Description("Warning level at the end of the month (notice, yellow, red), null without one.")]
    public Warnings.WarningLevel? WarningLevel { get; init; }
}

public sealed record SnapshotMeasure
{
    public required long Id { get; init; }
    public required string IssueCode { get; init; }
    public required string Code { get; init; }
    public required string Title { get; init; }
    [Description("What was done, as the measure describes it at the time of the snapshot.")]
    public string? Description { get; init; }
    public required string OwnerUnit { get; init; }
    public required MeasureState State { get; init; }
    public required decimal Progress { get; init; }
    public DateOnly? StartDate { get; init; }
    public required DateOnly DueDate { get; init; }
    public DateOnly? CompletedOn { get; init; }
    public required bool Overdue { get; init; }
    public TrafficLight? TrafficLight { get; init; }
    [Description("The note of the latest progress entry reported by the end of the month.")]
    public string? LatestNote { get; init; }
    [Description("The due date before its first change; null in snapshots taken before deadline changes were recorded (then the due date).")]
    public DateOnly? OriginalDueDate { get; init; }
    [Description("How many times the due date was deferred (moved later).")]
    public int DeferralCount { get; init; }
    [Description("Warning level at the end of the month (notice, yellow, red), null without one.")]
    public Warnings.WarningLevel? WarningLevel { get; init; }
}

public sealed record SnapshotIndicator
{
    public required string Code { get; init; }
    public required string Name { get; init; }
    public required string MeasureUnit { get; init; }
    [Description("The indicator's period that holds the month: the month, its quarter or its year.")]
    public required string Period { get; init; }
    public decimal? Value { get; init; }
    public required string PreviousPeriod { get; init; }
    public decimal? PreviousValue { get; init; }
    [Description("Value against the previous period (for a cumulative indicator, the period's own amount).")]
    public decimal? Change { get; init; }
    public decimal? TargetValue { get; init; }
    public DateOnly? TargetDate { get; init; }
    [Description("Percent of the way from the baseline (or 0) to the target.")]
    public decimal? TargetProgress { get; init; }
    [Description("Codes of the round's issues the indicator is linked to (directly or through a measure).")]
    public required IReadOnlyList<string> Issues { get; init; }
}

/// <summary>A period of the round and its snapshot revisions.</summary>
public sealed record SnapshotListItem
{
    public required string Period { get; init; }
    [Description("The latest revision.")]
    public required int Revision { get; init; }
    public required SnapshotStatus Status { get; init; }
    public required SnapshotOrigin Origin { get; init; }
    [Description("The latest published revision, if any (a correction may be in draft above it).")]
    public int? PublishedRevision { get; init; }
    public DateTime? PublishedAt { get; init; }
    public required DateTime UpdatedAt { get; init; }
    [Description("Completion rate in the latest revision.")]
    public decimal? CompletionRate { get; init; }
}

public sealed record SnapshotList(string Round, IReadOnlyList<SnapshotListItem> Items);

/// <summary>What a month-end job sends: progress of measures and indicator values for the month, and the narrative.</summary>
public sealed record PushSnapshotRequest
{
    [Description("The office's account of the month.")]
    [StringLength(50000)]
    public string? Narrative { get; init; }

    [Description("Progress reached by measures of the round (each like POST /measures/{id}/progress).")]
    [MaxLength(5000)]
    public IReadOnlyList<SnapshotProgressUpdate>? Progress { get; init; }

    [Description("Indicator values for the month (or its quarter or year for indicators of that frequency), upserted.")]
    [MaxLength(50000)]
    public IReadOnlyList<SnapshotValue>? Values { get; init; }

    [Description("Required once the month is published: why the published snapshot is corrected. The push then makes the next revision, as a draft.")]
    [StringLength(2000, MinimumLength = 1)]
    public string? RevisionReason { get; init; }
}

public sealed record SnapshotProgressUpdate
{
    [Description("Id of a measure of the round.")]
    [Range(1, long.MaxValue)]
    public required long MeasureId { get; init; }

    [Description("Progress in percent, 0–100, not below the measure's current progress. 100 completes the measure.")]
    [Range(typeof(decimal), "0", "100")]
    public required decimal Percent { get; init; }

    [Description("Date the progress was reached: in the month or before it; default the month's last day (or today, if earlier).")]
    public DateOnly? ReportedOn { get; init; }

    [StringLength(5000)]
    public string? Note { get; init; }
}

public sealed record SnapshotValue
{
    [StringLength(64, MinimumLength = 1)]
    public required string Indicator { get; init; }

    [Description("Unit (region) code.")]
    [StringLength(32, MinimumLength = 1)]
    public required string Unit { get; init; }

    [Description("Period of the indicator's frequency that holds the month; default the month itself.")]
    [StringLength(7, MinimumLength = 4)]
    public string? Period { get; init; }

    public required decimal Value { get; init; }

    [StringLength(2000)]
    public string? Comment { get; init; }
}

/// <summary>The answer to a snapshot push: the draft as it now stands, and what the push changed.</summary>
public sealed record PushSnapshotResponse
{
    [Description("true when the push changed something: a progress entry added, a value inserted or updated, or the draft (content, narrative, "
        + "reason). false when nothing changed (the same push again, or nothing new): the draft and its ETag stay as they were.")]
    public required bool Changed { get; init; }
    [Description("Progress lines that added an entry.")]
    public required int ProgressApplied { get; init; }
    [Description("Progress lines with nothing new: the measure is at that percent, and the line has no other note than its latest entry's and no "
        + "date after the latest reported.")]
    public required int ProgressUnchanged { get; init; }
    public required int ValuesInserted { get; init; }
    public required int ValuesUpdated { get; init; }
    public required int ValuesUnchanged { get; init; }
    public required SnapshotResponse Snapshot { get; init; }
}

public sealed record PublishSnapshotRequest
{
    [StringLength(2000)]
    public string? Note { get; init; }
}

public sealed record SnapshotQuery
{
    [Description("A given revision; default the latest.")]
    [Range(1, int.MaxValue, ErrorMessage = "revision is 1 or more.")]
    public int? Revision { get; init; }
}

public sealed record SnapshotDiffQuery
{
    [Description("The month to compare with (YYYY-MM), usually the one before.")]
    [Required(ErrorMessage = "Name the month to compare with: against=YYYY-MM.")]
    [Month]
    public Period? Against { get; init; }
}

/// <summary>What changed between two months' snapshots (their latest revisions).</summary>
public sealed record SnapshotDiff
{
    public required string Round { get; init; }
    public required string From { get; init; }
    public required int FromRevision { get; init; }
    public required string To { get; init; }
    public required int ToRevision { get; init; }
    public required IReadOnlyList<StateChange> IssueStates { get; init; }
    public required IReadOnlyList<StateChange> MeasureStates { get; init; }
    [Description("Measures done in the later month that were not done in the earlier one.")]
    public required IReadOnlyList<SnapshotItemRef> MeasuresCompleted { get; init; }
    [Description("Measures overdue in the later month that were not in the earlier one.")]
    public required IReadOnlyList<SnapshotItemRef> NewlyOverdue { get; init; }
    [Description("Measures present in only one of the two.")]
    public required IReadOnlyList<SnapshotItemRef> MeasuresAdded { get; init; }
    public required IReadOnlyList<SnapshotItemRef> MeasuresRemoved { get; init; }
    public required IReadOnlyList<IndicatorChange> Indicators { get; init; }
    public decimal? CompletionRateFrom { get; init; }
    public decimal? CompletionRateTo { get; init; }
}

public sealed record StateChange(long Id, string Code, string Title, string From, string To,
    [property: Description("Progress before and after (measures only).")] decimal? ProgressFrom = null, decimal? ProgressTo = null);

public sealed record SnapshotItemRef(long Id, string Code, string Title);

public sealed record IndicatorChange(string Code, string Name, string MeasureUnit, string FromPeriod, decimal? From, string ToPeriod, decimal? To,
    decimal? Change);
