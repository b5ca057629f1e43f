using Rectify.Api.Features.Measures;

namespace Rectify.Api.Features.Report;

/// <summary>Where the report's figures come from, as the page must say plainly.</summary>
public enum ReportSource { Published, Draft, Preview }

/// <summary>
/// The progress report (整改进展情况通报) of one round for one month, worded in Chinese but not yet laid out: the
/// HTML and Markdown renderers share every sentence and only escape and arrange them.
/// </summary>
public sealed record ProgressReport
{
    public required string Round { get; init; }
    public required string Period { get; init; }
    public required string Title { get; init; }
    public required ReportSource Source { get; init; }
    /// <summary>已发布（第N版，发布日期）, 草稿（未发布） or 实时数据预览（未形成快照）.</summary>
    public required string StatusLine { get; init; }
    /// <summary>Why a published correction differs from the revision before it.</summary>
    public string? RevisionReason { get; init; }
    /// <summary>The opening paragraph: who inspected whom and when, and what follows.</summary>
    public required string Preamble { get; init; }
    public required IReadOnlyList<ReportStat> Stats { get; init; }
    /// <summary>一、总体进展 as sentences, one paragraph each.</summary>
    public required IReadOnlyList<string> Overview { get; init; }
    public required ReportChart CompletionTrend { get; init; }
    public required IReadOnlyList<ReportChart> KeyIndicators { get; init; }
    /// <summary>二、 one entry per top-level issue (problem area), in code order.</summary>
    public required IReadOnlyList<ReportArea> Areas { get; init; }
    /// <summary>三、 every unfinished measure, the most urgent first.</summary>
    public required IReadOnlyList<ReportPending> Pending { get; init; }
    public required string PendingSummary { get; init; }
    /// <summary>
    /// 提醒预警: the levels items entered in the month and where they stand at its end; null for snapshots taken before
    /// warnings existed.
    /// </summary>
    public string? WarningSummary { get; init; }
    /// <summary>
    /// 审议销号、巩固: the month's submissions and decisions, and the issues under consolidation; null for snapshots taken
    /// before sign-offs existed.
    /// </summary>
    public string? SignOffSummary { get; init; }
    /// <summary>The office's own account of the month (the snapshot's narrative), one paragraph each.</summary>
    public required IReadOnlyList<string> Narrative { get; init; }
    /// <summary>What the office commits to next, in the reference report's words: said when the month has no narrative.</summary>
    public required string Closing { get; init; }
    public string? Signatory { get; init; }
    public string? SignedOn { get; init; }
    /// <summary>A line on how the page was made: the snapshot, when its data were read.</summary>
    public required string SourceNote { get; init; }
    /// <summary>三、 the issues and measures whose due date was deferred, with their original dates: issues first, in code order.</summary>
    public required IReadOnlyList<ReportDeferred> Deferred { get; init; }
    public required string DeferredSummary { get; init; }
}

/// <summary>A deferred issue or measure (延期事项): its original and its current due date, and how many times it moved later.</summary>
public sealed record ReportDeferred(string Item, string Kind, string Owner, string OriginalDueDate, string DueDate, string Times, string State);

/// <summary>A headline figure (问题总数, 完成率 …).</summary>
public sealed record ReportStat(string Label, string Value, string? Note = null, bool Alert = false);

/// <summary>（一）（二）…: one top-level issue with the measures of it and of its sub-issues.</summary>
public sealed record ReportArea
{
    public required string Code { get; init; }
    public required string Heading { get; init; }
    public required string Meta { get; init; }
    public required IReadOnlyList<ReportMeasure> Measures { get; init; }
    /// <summary>相关指标: the figures of the indicators linked to the issue or its sub-issues.</summary>
    public required IReadOnlyList<string> Figures { get; init; }
}

public sealed record ReportMeasure
{
    public required int Number { get; init; }
    public required string Title { get; init; }
    /// <summary>The sub-issue the measure belongs to, when it is not the area's own.</summary>
    public string? SubIssue { get; init; }
    public required MeasureState State { get; init; }
    public required string StateText { get; init; }
    public required decimal Progress { get; init; }
    public required string ProgressText { get; init; }
    public required IReadOnlyList<string> Paragraphs { get; init; }
    public string? LatestNote { get; init; }
    public required string Meta { get; init; }
    public TrafficLight? Light { get; init; }
    public required string LightText { get; init; }
}

/// <summary>An unfinished measure in 三、: who owes it, by when, and how urgent it is.</summary>
public sealed record ReportPending(string Measure, string Area, string Owner, string DueDate, string Progress, TrafficLight? Light, string LightText);

/// <summary>
/// One small chart: a monthly series over the report's twelve months, a null value being a gap. Bars for amounts of a
/// month (flows), a line for levels and running totals.
/// </summary>
public sealed record ReportChart
{
    public required string Title { get; init; }
    public required string MeasureUnit { get; init; }
    public required bool Bars { get; init; }
    public required IReadOnlyList<ReportPoint> Points { get; init; }
    public decimal? Target { get; init; }
    /// <summary>Fixed scale (0–100 for a completion rate); null to scale to the data.</summary>
    public decimal? Maximum { get; init; }
    public string? Note { get; init; }
}

/// <summary>A month of a chart; <paramref name="Final"/> false marks a figure that may still change (a draft or a preview).</summary>
public sealed record ReportPoint(string Period, decimal? Value, bool Final = true);
