using System.ComponentModel;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Snapshots;

namespace Rectify.Api.Features.Dashboard;

/// <summary>One round at a glance (整改工作看板): counts, what is late or due, progress per problem area, indicators, trend.</summary>
public sealed record DashboardResponse
{
    [Description("Code of the round.")]
    public required string Round { get; init; }
    public required string RoundName { get; init; }
    [Description("Today in the configured time zone: the day overdue and due soon are taken on.")]
    public required DateOnly AsOf { get; init; }
    [Description("Last day of the due-soon window: an unfinished measure due from asOf through this day is due soon (yellow).")]
    public required DateOnly DueSoonUntil { get; init; }
    [Description("Code of the region whose indicator values are given: the top-most region (province, city, district or county) above the "
        + "inspected unit; null when there is none.")]
    public string? Region { get; init; }
    public string? RegionName { get; init; }
    public required DashboardTotals Totals { get; init; }
    [Description("Issue counts by state (every state present, zeros included).")]
    public required IReadOnlyDictionary<string, int> IssuesByState { get; init; }
    [Description("Measure counts by state (every state present, zeros included).")]
    public required IReadOnlyDictionary<string, int> MeasuresByState { get; init; }
    [Description("Done measures as a percentage of the measures not cancelled, two decimals; null when no measure counts.")]
    public decimal? CompletionRate { get; init; }
    [Description("Unfinished measures past their due date, most overdue first.")]
    public required DashboardList<OverdueMeasure> Overdue { get; init; }
    [Description("Unfinished measures due from asOf through dueSoonUntil, soonest first.")]
    public required DashboardList<DueSoonMeasure> DueSoon { get; init; }
    [Description("Progress per problem area: one entry per top-level issue, its sub-issues' measures included, in issue order.")]
    public required IReadOnlyList<DashboardArea> Areas { get; init; }
    [Description("Indicators linked to the round's issues or measures that have a target, with their latest value at the region, by code.")]
    public required IReadOnlyList<DashboardIndicator> Indicators { get; init; }
    [Description("Completion rate of the latest revision of each monthly snapshot, oldest first (the last 24 months with a snapshot).")]
    public required IReadOnlyList<CompletionTrendPoint> Trend { get; init; }
}

public sealed record DashboardTotals
{
    public required int Issues { get; init; }
    [Description("Top-level issues (problem areas).")]
    public required int TopLevelIssues { get; init; }
    public required int Measures { get; init; }
    [Description("Issues open or in progress and past their due date.")]
    public required int OverdueIssues { get; init; }
    [Description("Unfinished measures past their due date (all of them, not only those listed).")]
    public required int OverdueMeasures { get; init; }
    [Description("Unfinished measures due from asOf through dueSoonUntil (all of them, not only those listed).")]
    public required int DueSoonMeasures { get; init; }
    [Description("Issues whose due date was deferred (moved later through POST …/deadline) at least once.")]
    public required int DeferredIssues { get; init; }
    [Description("Measures whose due date was deferred at least once.")]
    public required int DeferredMeasures { get; init; }
    [Description("Deferrals of the round's issues and measures in all (an item deferred twice counts twice).")]
    public required int Deferrals { get; init; }
    [Description("Closed issues under consolidation (巩固): today on or before their accepted sign-off's watchUntil.")]
    public required int ConsolidatingIssues { get; init; }
}

/// <summary>The first items of a list, and how many there are in all.</summary>
public sealed record DashboardList<T>
{
    [Description("How many there are in all.")]
    public required int Total { get; init; }
    [Description("The first of them (at most 50).")]
    public required IReadOnlyList<T> Items { get; init; }
}

/// <summary>A measure in one of the dashboard's lists, with its owner named.</summary>
public abstract record DashboardMeasure
{
    public required long Id { get; init; }
    public required long IssueId { get; init; }
    public required string IssueCode { get; init; }
    public required string Code { get; init; }
    public required string Title { get; init; }
    [Description("Code of the unit that owns the measure.")]
    public required string OwnerUnit { get; init; }
    [Description("Name of the unit that owns the measure.")]
    public required string OwnerUnitName { get; init; }
    public required MeasureState State { get; init; }
    [Description("Progress in percent, 0–100.")]
    public required decimal Progress { get; init; }
    public required DateOnly DueDate { get; init; }
}

public sealed record OverdueMeasure : DashboardMeasure
{
    [Description("Days since the due date (1 when it was due yesterday).")]
    public required int DaysOverdue { get; init; }
}

public sealed record DueSoonMeasure : DashboardMeasure
{
    [Description("Days until the due date (0 when it is due today).")]
    public required int DaysLeft { get; init; }
}

/// <summary>Progress of one problem area: a top-level issue with everything under it.</summary>
public sealed record DashboardArea
{
    public required long IssueId { get; init; }
    public required string Code { get; init; }
    public required string Title { get; init; }
    [Description("Problem area, e.g. 殡葬管理.")]
    public string? Category { get; init; }
    public required IssueState State { get; init; }
    [Description("Issues under it, at any depth.")]
    public required int SubIssues { get; init; }
    [Description("Measures of the issue and of its sub-issues, cancelled ones included.")]
    public required int Measures { get; init; }
    public required int Done { get; init; }
    public required int Cancelled { get; init; }
    [Description("Unfinished measures past their due date.")]
    public required int Overdue { get; init; }
    [Description("Mean progress (0–100) of the measures that are not cancelled, two decimals; null when there are none.")]
    public decimal? Progress { get; init; }
    [Description("Done measures as a percentage of those not cancelled, two decimals; null when there are none.")]
    public decimal? CompletionRate { get; init; }
}

/// <summary>An indicator against its target, at the round's region.</summary>
public sealed record DashboardIndicator
{
    public required string Code { get; init; }
    public required string Name { get; init; }
    [Description("Unit of measure, e.g. 项, 人, %.")]
    public required string MeasureUnit { get; init; }
    public required IndicatorValueType ValueType { get; init; }
    public required IndicatorDirection Direction { get; init; }
    public decimal? BaselineValue { get; init; }
    public required decimal TargetValue { get; init; }
    public DateOnly? TargetDate { get; init; }
    [Description("Latest period with a value at the region; null when there is none.")]
    public string? Period { get; init; }
    [Description("The value at the region for that period, as the indicator's series gives it: the region's own, else its sub-regions' combined as "
        + "the indicator says; for a ratio, numerator / denominator (× 100 when the unit of measure is %).")]
    public decimal? Value { get; init; }
    [Description("Percent of the way from the baseline (or 0) to the target, two decimals, as the indicator's series "
        + "gives it; null without a value.")]
    public decimal? Progress { get; init; }
}

/// <summary>The completion rate a monthly snapshot recorded.</summary>
public sealed record CompletionTrendPoint
{
    [Description("The month, YYYY-MM.")]
    public required string Period { get; init; }
    [Description("The latest revision of the month's snapshot, whose figure this is.")]
    public required int Revision { get; init; }
    public required SnapshotStatus Status { get; init; }
    [Description("Done measures as a percentage of those not cancelled at the end of the month; null when the snapshot had none.")]
    public decimal? CompletionRate { get; init; }
}
