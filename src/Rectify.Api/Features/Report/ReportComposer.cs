using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Rounds;
using Rectify.Api.Features.Snapshots;
using static Rectify.Api.Features.Report.ReportText;

namespace Rectify.Api.Features.Report;

/// <summary>Everything the report is made from, read beforehand; composing it reads nothing more.</summary>
public sealed record ReportSources
{
    public required RoundResponse Round { get; init; }
    public required SnapshotContent Content { get; init; }
    public required ReportSource Source { get; init; }
    public int? Revision { get; init; }
    /// <summary>Publication day in the configured time zone.</summary>
    public DateOnly? PublishedOn { get; init; }
    public string? Narrative { get; init; }
    public string? RevisionReason { get; init; }
    /// <summary>When the content was read from live data, in the configured time zone.</summary>
    public required DateTime TakenAt { get; init; }
    /// <summary>Completion rate per month up to the report's month, oldest first; Final is false for drafts and previews.</summary>
    public required Period Month { get; init; }
    public required IReadOnlyList<ReportPoint> Trend { get; init; }
    public required IReadOnlyList<(SnapshotIndicator Indicator, SeriesResponse Series)> KeySeries { get; init; }
    /// <summary>Names of the units the content names by code (owners, lead units, the inspected unit).</summary>
    public required IReadOnlyDictionary<string, string> UnitNames { get; init; }
}

/// <summary>Turns the month's state into the report's words, in the shape of the published reference report.</summary>
public static class ReportComposer
{
    /// <summary>The months a chart shows: the report's month and the eleven before it.</summary>
    public const int ChartMonths = 12;

    public static ProgressReport Compose(ReportSources sources)
    {
        var content = sources.Content;
        var month = sources.Month;
        var status = StatusLine(sources);
        var months = Enumerable.Range(0, ChartMonths).Select(back => month.Back(ChartMonths - 1 - back)).ToList();
        string Unit(string? code) => code is null ? "—" : sources.UnitNames.GetValueOrDefault(code, code);

        var issuesByCode = content.Issues.ToDictionary(i => i.Code, StringComparer.Ordinal);
        var areas = content.Issues.Where(i => i.ParentCode is null || !issuesByCode.ContainsKey(i.ParentCode)).ToList();
        SnapshotIssue AreaOf(SnapshotIssue issue)
        {
            // Bounded by the number of issues, so that a cycle in bad data cannot loop forever.
            for (var hops = 0; hops < content.Issues.Count && issue.ParentCode is { } parent && issuesByCode.TryGetValue(parent, out var up); hops++)
                issue = up;
            return issue;
        }
        var areaOfIssue = content.Issues.ToDictionary(i => i.Code, i => AreaOf(i).Code, StringComparer.Ordinal);
        var pending = Pending(content, areaOfIssue, issuesByCode, Unit);
        var deferred = Deferred(content, Unit);

        return new ProgressReport
        {
            Round = content.Round,
            Period = content.Period,
            Title = $"「{OneLine(content.RoundName)}」整改进展情况（截至{PeriodName(month)}）",
            Source = sources.Source,
            StatusLine = status,
            RevisionReason = sources.Source == ReportSource.Published && sources.Revision > 1 ? OneLine(sources.RevisionReason) : null,
            Preamble = Preamble(sources.Round, Unit(sources.Round.InspectedUnit), month),
            Stats = Stats(content.Summary),
            Overview = Overview(content.Summary, content.Issues.Count(i => i.ParentCode is not null), month),
            CompletionTrend = TrendChart(sources.Trend, months),
            KeyIndicators = sources.KeySeries.Select(k => IndicatorChart(k.Indicator, k.Series, months)).ToList(),
            Areas = areas.Select((area, index) => Area(area, index + 1, content, areaOfIssue, issuesByCode, Unit)).ToList(),
            Pending = pending,
            PendingSummary = PendingSummary(pending),
            WarningSummary = WarningSummary(content.Summary.Warnings, month),
            SignOffSummary = SignOffSummary(content, month),
            Narrative = Paragraphs(sources.Narrative),
            Closing = "对尚未完成的整改事项，逐项明确责任单位和完成时限，对推进缓慢的及时提醒预警，严格执行对账销号制度，做到整改一项、审议一项、销号一项、巩固一项。",
            Signatory = sources.UnitNames.GetValueOrDefault(sources.Round.InspectedUnit),
            SignedOn = sources.PublishedOn is { } day ? Date(day) : null,
            SourceNote = $"本通报由整改台账数据生成：{content.Round} {content.Period}，{status}；数据读取于{Instant(sources.TakenAt)}" +
                         (content.Region is { } region ? $"；指标数据地区：{Unit(region)}。" : "；未关联地区，不列指标走势。"),
            Deferred = deferred,
            DeferredSummary = DeferredSummary(content.Issues.Count(i => i.DeferralCount > 0), content.Measures.Count(m => m.DeferralCount > 0)),
        };
    }

    static string StatusLine(ReportSources sources) => sources.Source switch
    {
        ReportSource.Published => $"已发布（第{Integer(sources.Revision ?? 1)}版，{(sources.PublishedOn is { } day ? Date(day) : "日期不详")}发布）",
        ReportSource.Draft => "草稿（未发布）",
        _ => "实时数据预览（未形成快照）",
    };

    static string Preamble(RoundResponse round, string inspectedUnit, Period month)
    {
        var start = round.InspectionStart;
        var end = round.InspectionEnd;
        var span = start.Year == end.Year && start.Month == end.Month ? $"{start.Year}年{start.Month}月"
            : start.Year == end.Year ? $"{start.Year}年{start.Month}月至{end.Month}月"
            : $"{start.Year}年{start.Month}月至{end.Year}年{end.Month}月";
        var feedback = round.FeedbackDate is { } day ? $"{Date(day)}，巡视组反馈了巡视意见。" : "";
        var deadline = round.RectificationDeadline is { } due ? $"集中整改期至{Date(due)}。" : "";
        return $"根据巡视工作安排，{span}，{OneLine(round.InspectionBody)}对{OneLine(inspectedUnit)}进行了巡视。{feedback}{deadline}" +
               $"现将截至{PeriodName(month)}底的巡视整改进展情况通报如下。";
    }

    static IReadOnlyList<ReportStat> Stats(SnapshotSummary summary) =>
    [
        new("反馈问题", $"{Integer(summary.Issues)}个", $"已销号{Integer(Count(summary.IssuesByState, IssueState.Closed))}个"),
        new("整改措施", $"{Integer(summary.Measures)}项", $"已完成{Integer(Count(summary.MeasuresByState, MeasureState.Done))}项"),
        new("措施完成率", summary.CompletionRate is { } rate ? Percent(rate) : "—", $"本月完成{Integer(summary.MeasuresCompletedThisMonth)}项"),
        new("逾期未完成", $"{Integer(summary.OverdueMeasures)}项", $"逾期问题{Integer(summary.OverdueIssues)}个",
            Alert: summary.OverdueMeasures > 0 || summary.OverdueIssues > 0),
        new("数据报送", summary.Reporting.Percent is { } percent ? Percent(percent) : "—", $"应报{Integer(summary.Reporting.Expected)}项"),
    ];

    static IReadOnlyList<string> Overview(SnapshotSummary summary, int subIssues, Period month)
    {
        var issues = string.Join("、", Enum.GetValues<IssueState>().Select(s => $"{State(s)}{Integer(Count(summary.IssuesByState, s))}个"));
        var measures = string.Join("、", Enum.GetValues<MeasureState>().Select(s => $"{State(s)}{Integer(Count(summary.MeasuresByState, s))}项"));
        var rate = summary.CompletionRate is { } r ? $"整改措施完成率{Percent(r)}（已完成措施占未取消措施的比例）" : "尚无整改措施，完成率无从计算";
        var reporting = summary.Reporting;
        var reported = reporting.Expected == 0
            ? $"{PeriodName(month)}无应报送的月度指标数据。"
            : $"{PeriodName(month)}月度指标数据应报送{Integer(reporting.Expected)}项，已报送{Integer(reporting.Reported)}"
                + $"项（按时{Integer(reporting.OnTime)}项、逾期{Integer(reporting.Late)}项），"
                + $"未报送{Integer(reporting.Missing)}项，报送完整率{(reporting.Percent is { } p ? Percent(p) : "—")}。";
        return
        [
            $"截至{PeriodName(month)}底，巡视反馈问题共{Integer(summary.Issues)}个{(subIssues > 0 ? $"（含子问题{Integer(subIssues)}个）" : "")}"
                + $"，其中{issues}；逾期未完成问题{Integer(summary.OverdueIssues)}个，本月销号{Integer(summary.IssuesClosedThisMonth)}个。",
            $"制定整改措施共{Integer(summary.Measures)}项，其中{measures}；{rate}"
                + $"，本月完成{Integer(summary.MeasuresCompletedThisMonth)}项，逾期未完成{Integer(summary.OverdueMeasures)}项。",
            reported,
        ];
    }

    static int Count<T>(IReadOnlyDictionary<string, int> byState, T state) where T : struct, Enum
        => byState.GetValueOrDefault(Infrastructure.EnumText.Format(state));

    static ReportArea Area(SnapshotIssue area, int number, SnapshotContent content, IReadOnlyDictionary<string, string> areaOfIssue,
        IReadOnlyDictionary<string, SnapshotIssue> issues, Func<string?, string> unit)
    {
        var members = areaOfIssue.Where(a => a.Value == area.Code).Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        var measures = content.Measures.Where(m => members.Contains(m.IssueCode)).Select((m, index) => new ReportMeasure
        {
            Number = index + 1,
            Title = OneLine(m.Title),
            SubIssue = m.IssueCode == area.Code ? null : $"{m.IssueCode} {OneLine(issues[m.IssueCode].Title)}",
            State = m.State,
            StateText = State(m.State),
            Progress = m.Progress,
            ProgressText = Percent(m.Progress),
            Paragraphs = Paragraphs(m.Description),
            LatestNote = string.IsNullOrWhiteSpace(m.LatestNote) ? null : OneLine(m.LatestNote),
            Meta = $"责任单位：{OneLine(unit(m.OwnerUnit))}；完成时限：{Date(m.DueDate)}{Deferral(m.OriginalDueDate, m.DeferralCount)}" +
                   (m.CompletedOn is { } done ? $"；完成日期：{Date(done)}" : "") + $"；状态：{State(m.State)}，进度{Percent(m.Progress)}",
            Light = m.State is MeasureState.Done or MeasureState.Cancelled ? null : m.TrafficLight,
            LightText = m.State is MeasureState.Done or MeasureState.Cancelled ? State(m.State) : Light(m.TrafficLight),
        }).ToList();

        var meta = new List<string>();
        if (!string.IsNullOrWhiteSpace(area.Category)) meta.Add($"问题领域：{OneLine(area.Category)}");
        if (area.LeadUnit is not null) meta.Add($"牵头单位：{OneLine(unit(area.LeadUnit))}");
        if (!string.IsNullOrWhiteSpace(area.ResponsibleLeader)) meta.Add($"责任领导：{OneLine(area.ResponsibleLeader)}");
        meta.Add($"问题状态：{State(area.State)}" + (area.Overdue ? "（逾期）" : ""));
        if (area.DueDate is { } due) meta.Add($"整改时限：{Date(due)}{Deferral(area.OriginalDueDate, area.DeferralCount)}");
        if (area.Progress is { } progress) meta.Add($"措施平均进度：{Percent(progress)}");
        if (members.Count > 1) meta.Add($"含子问题{Integer(members.Count - 1)}个");

        return new ReportArea
        {
            Code = area.Code,
            Heading = $"（{Chinese(number)}）关于“{OneLine(area.Title)}”的问题",
            Meta = string.Join("；", meta),
            Measures = measures,
            Figures = content.Indicators.Where(i => i.Issues.Any(members.Contains))
                .Select(i => IndicatorFigure(i, content.Period)).OfType<string>().ToList(),
        };
    }

    /// <summary>
    /// One indicator's figure for the month: value, change, target; its period is named when it is not the report's
    /// month (a quarter, a year). An indicator without a value this period but with one the period before says so (a
    /// figure given as of an earlier month); one without either is left out.
    /// </summary>
    static string? IndicatorFigure(SnapshotIndicator indicator, string month)
    {
        var name = OneLine(indicator.Name);
        var unit = OneLine(indicator.MeasureUnit);
        var target = indicator.TargetValue is { } t
            ? $"目标{Figure(t, unit)}{(indicator.TargetDate is { } by ? $"（{Date(by)}前）" : "")}"
                + (indicator.TargetProgress is { } p ? $"，完成目标的{Percent(p)}" : "")
            : null;
        if (indicator.Value is { } value)
        {
            var details = indicator.Period == month ? new List<string>() : [PeriodName(indicator.Period)];
            if (indicator.Change is { } change && indicator.PreviousValue is not null)
                details.Add(PreviousName(indicator.Period) + Change(change, unit));
            if (target is not null) details.Add(target);
            return details.Count == 0 ? $"{name}：{Figure(value, unit)}" : $"{name}：{Figure(value, unit)}（{string.Join("；", details)}）";
        }
        if (indicator.PreviousValue is { } previous)
            return $"{name}：{Figure(previous, unit)}（{PeriodName(indicator.PreviousPeriod)}；{PeriodName(indicator.Period)}数据未报"
                + $"{(target is null ? "" : "；" + target)}）";
        return null;
    }

    static IReadOnlyList<ReportPending> Pending(SnapshotContent content, IReadOnlyDictionary<string, string> areaOfIssue,
        IReadOnlyDictionary<string, SnapshotIssue> issues, Func<string?, string> unit)
        => content.Measures
            .Where(m => m.State is MeasureState.Planned or MeasureState.InProgress)
            .OrderBy(m => Urgency(m.TrafficLight)).ThenBy(m => m.DueDate)
            .ThenBy(m => m.IssueCode, NaturalCode.Comparer).ThenBy(m => m.Code, NaturalCode.Comparer)
            .Select(m => new ReportPending(
                $"{m.Code} {OneLine(m.Title)}",
                OneLine(issues[areaOfIssue[m.IssueCode]].Title),
                OneLine(unit(m.OwnerUnit)),
                Date(m.DueDate),
                Percent(m.Progress),
                m.TrafficLight,
                Light(m.TrafficLight)))
            .ToList();

    /// <summary>
    /// The deferred issues, then the deferred measures, each with its original date (a snapshot from before deferrals were
    /// recorded has none).
    /// </summary>
    static IReadOnlyList<ReportDeferred> Deferred(SnapshotContent content, Func<string?, string> unit)
        => content.Issues.Where(i => i.DeferralCount > 0 && i.DueDate is not null)
            .Select(i => new ReportDeferred($"{i.Code} {OneLine(i.Title)}", "问题", OneLine(unit(i.LeadUnit)),
                Date(i.OriginalDueDate ?? i.DueDate!.Value), Date(i.DueDate!.Value), $"{Integer(i.DeferralCount)}次", State(i.State)))
            .Concat(content.Measures.Where(m => m.DeferralCount > 0)
                .Select(m => new ReportDeferred($"{m.Code} {OneLine(m.Title)}", "整改措施", OneLine(unit(m.OwnerUnit)),
                    Date(m.OriginalDueDate ?? m.DueDate), Date(m.DueDate), $"{Integer(m.DeferralCount)}次", State(m.State))))
            .ToList();

    static string DeferredSummary(int issues, int measures) => issues + measures == 0
        ? "本期无推迟完成时限（延期）的整改事项。"
        : $"共有{Integer(issues)}个问题、{Integer(measures)}项整改措施推迟了完成时限（延期），原定时限与调整后时限列示如下。";

    /// <summary>After a due date: its original date and the number of deferrals, when it was deferred.</summary>
    static string Deferral(DateOnly? original, int deferrals)
        => deferrals > 0 && original is { } day ? $"（原定{Date(day)}，延期{Integer(deferrals)}次）" : "";

    static string PendingSummary(IReadOnlyList<ReportPending> pending)
    {
        if (pending.Count == 0) return "整改措施均已完成或依规取消，转入常态化巩固。";
        var red = pending.Count(m => m.Light == TrafficLight.Red);
        var yellow = pending.Count(m => m.Light == TrafficLight.Yellow);
        return $"尚有{Integer(pending.Count)}项整改措施未完成，其中逾期{Integer(red)}项、临期{Integer(yellow)}项，按紧迫程度列示如下。";
    }

    /// <summary>
    /// The monthly reminders (月提醒) of the reference case: how many items entered each warning level in the month, and how
    /// many stand at each at its end.
    /// </summary>
    static string? WarningSummary(SnapshotWarnings? warnings, Period month)
    {
        if (warnings is null) return null;
        var (entered, atEnd) = (warnings.EnteredThisMonth, warnings.AtMonthEnd);
        return $"提醒预警：实行“月提醒”机制，对推进缓慢的及时提醒预警。{PeriodName(month)}新进入提醒{Integer(entered.Notice)}项、黄色预警{Integer(entered.Yellow)}项、" +
               $"红色预警{Integer(entered.Red)}项（问题和整改措施合计）；截至月底，处于红色预警{Integer(atEnd.Red)}项、黄色预警{Integer(atEnd.Yellow)}项、" +
               $"提醒{Integer(atEnd.Notice)}项，按预警等级逐级提醒责任单位、牵头单位和责任领导。";
    }

    /// <summary>
    /// 审议一项、销号一项、巩固一项: the month's submissions and decisions, the issues closed so far, and those under
    /// consolidation with their watch dates (their linked indicators stay in the report).
    /// </summary>
    static string? SignOffSummary(SnapshotContent content, Period month)
    {
        if (content.Summary.SignOffs is not { } signOffs) return null;
        var watched = content.Issues.Where(i => i.State == IssueState.Closed && i.WatchUntil is { } w && w > content.MonthEnd)
            .Select(i => $"{i.Code} {OneLine(i.Title)}（巩固至{Date(i.WatchUntil!.Value)}）").ToList();
        return $"审议销号：{PeriodName(month)}提交销号申请{Integer(signOffs.SubmittedThisMonth)}件，审议同意销号{Integer(signOffs.AcceptedThisMonth)}件、" +
               $"退回{Integer(signOffs.ReturnedThisMonth)}件；累计已销号{Integer(Count(content.Summary.IssuesByState, IssueState.Closed))}个，" +
               (watched.Count == 0 ? "无处于巩固期的问题。" : $"处于巩固期{Integer(watched.Count)}个：{string.Join("；", watched)}。");
    }

    static ReportChart TrendChart(IReadOnlyList<ReportPoint> trend, IReadOnlyList<Period> months)
    {
        var byPeriod = trend.GroupBy(p => p.Period).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        return new ReportChart
        {
            Title = "整改措施完成率",
            MeasureUnit = "%",
            Bars = false,
            Maximum = 100,
            Points = months.Select(m => byPeriod.GetValueOrDefault(m.ToString()) ?? new ReportPoint(m.ToString(), null)).ToList(),
            Note = trend.Any(p => !p.Final) ? "各月取该月快照最新版本；空心点为草稿或实时预览" : "各月取该月已发布快照",
        };
    }

    static ReportChart IndicatorChart(SnapshotIndicator indicator, SeriesResponse series, IReadOnlyList<Period> months)
    {
        var byPeriod = series.Points.ToDictionary(p => p.Period, p => p.Value, StringComparer.Ordinal);
        return new ReportChart
        {
            Title = OneLine(indicator.Name),
            MeasureUnit = OneLine(series.MeasureUnit),
            // A month's own amount reads as bars; a level or a running total as a line.
            Bars = series.TimeAggregation == TimeAggregation.Flow,
            Target = series.TargetValue,
            Points = months.Select(m => new ReportPoint(m.ToString(), byPeriod.GetValueOrDefault(m.ToString()))).ToList(),
        };
    }

}
