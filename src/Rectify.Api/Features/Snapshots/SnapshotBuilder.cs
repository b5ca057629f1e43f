using System.Data;
using Dapper;
using Microsoft.Extensions.Options;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Completeness;
using Rectify.Api.Infrastructure;

namespace Rectify.Api.Features.Snapshots;

/// <summary>
/// Reads the state of a round at the end of a month from the live rows, in a handful of set-based queries. It runs
/// inside the caller's transaction, so that a push's own progress and values are part of what it reads.
/// Overdue and traffic lights are derived as on the first day after the month (or today, for the running month).
/// </summary>
public sealed class SnapshotBuilder(Clock clock, IOptions<RectifyOptions> options)
{
    public sealed record RoundRef(long Id, string Code, string Name, string? Region);

    /// <summary>The round by code, with its region (the top region above the inspected unit); null when unknown.</summary>
    public static async Task<RoundRef?> FindRoundAsync(IDbConnection connection, IDbTransaction? tx, string round, CancellationToken ct)
        => await connection.QuerySingleOrDefaultAsync<RoundRef>(new CommandDefinition(RoundSql, new { round }, tx, cancellationToken: ct));

    public async Task<SnapshotContent> BuildAsync(IDbConnection connection, IDbTransaction? tx, RoundRef round, Period month, CancellationToken ct)
    {
        var monthEnd = month.LastDay;
        var asOf = Min(monthEnd.AddDays(1), clock.Today);
        var firstDay = new DateOnly(month.Year, month.Index, 1);
        var args = new
        {
            roundId = round.Id, today = asOf, dueSoon = asOf.AddDays(options.Value.DueSoonDays), notice = asOf.AddDays(options.Value.NoticeDays),
            monthEnd, firstDay,
        };
        CommandDefinition Command(string sql, object parameters) => new(sql, parameters, tx, cancellationToken: ct);

        var issues = (await connection.QueryAsync<SnapshotIssueRow>(Command(IssuesSql, args))).Select(r => r.ToItem()).ToList();
        var measures = (await connection.QueryAsync<SnapshotMeasureRow>(Command(MeasuresSql, args))).Select(r => r.ToItem()).ToList();
        issues.Sort((a, b) => NaturalCode.Compare(a.Code, b.Code));
        measures.Sort((a, b) => NaturalCode.Compare(a.IssueCode, b.IssueCode) is var c and not 0 ? c : NaturalCode.Compare(a.Code, b.Code));

        var links = (await connection.QueryAsync<(long IndicatorId, string IssueCode)>(Command(LinksSql, args))).ToList();
        var indicators = await ReadIndicatorsAsync(connection, tx, round.Region, month, links, ct);

        // Only the round's own monthly indicators are expected of it: read just those, not every indicator's reporters
        // (at national scale that is hundreds of indicators times thousands of units, for every round drafted).
        var monthly = indicators.Where(i => i.Period == month.ToString()).Select(i => i.Code).ToArray();
        var reports = monthly.Length == 0 ? [] : await ExpectedReports.ReadAsync(connection, [month], clock, ct, indicators: monthly);
        var totals = ExpectedReports.Totals("all", reports);

        var entered = (await connection.QueryAsync<(string Level, int Items)>(Command(EnteredSql, args))).ToDictionary(e => e.Level, e => e.Items);
        var signOffs = await connection.QuerySingleAsync<SignOffCounts>(
            Command(SignOffsSql, new { args.roundId, args.firstDay, args.monthEnd, zone = options.Value.TimeZone }));

        var counted = measures.Count(m => m.State != MeasureState.Cancelled);
        var done = measures.Count(m => m.State == MeasureState.Done);
        bool InMonth(DateOnly? day) => day is { } d && d >= firstDay && d <= monthEnd;
        var summary = new SnapshotSummary
        {
            IssuesByState = Enum.GetValues<IssueState>().ToDictionary(EnumText.Format, s => issues.Count(i => i.State == s)),
            MeasuresByState = Enum.GetValues<MeasureState>().ToDictionary(EnumText.Format, s => measures.Count(m => m.State == s)),
            Issues = issues.Count,
            Measures = measures.Count,
            OverdueIssues = issues.Count(i => i.Overdue),
            OverdueMeasures = measures.Count(m => m.Overdue),
            IssuesClosedThisMonth = issues.Count(i => InMonth(i.ClosedOn)),
            MeasuresCompletedThisMonth = measures.Count(m => m.State == MeasureState.Done && InMonth(m.CompletedOn)),
            CompletionRate = Percent.Of(done, counted),
            Reporting = new SnapshotCompleteness(totals.Expected, totals.Reported, totals.OnTime, totals.Late, totals.Missing,
                Percent.Of(totals.Reported, totals.Expected)),
            DeferredIssues = issues.Count(i => i.DeferralCount > 0),
            DeferredMeasures = measures.Count(m => m.DeferralCount > 0),
            Warnings = new SnapshotWarnings
            {
                AtMonthEnd = WarningCounts.Of(issues.Select(i => i.WarningLevel).Concat(measures.Select(m => m.WarningLevel))),
                EnteredThisMonth = new WarningCounts(entered.GetValueOrDefault("notice"), entered.GetValueOrDefault("yellow"),
                    entered.GetValueOrDefault("red")),
            },
            SignOffs = new SnapshotSignOffs
            {
                SubmittedThisMonth = signOffs.Submitted, AcceptedThisMonth = signOffs.Accepted, ReturnedThisMonth = signOffs.Returned,
                Consolidating = issues.Count(i => i.State == IssueState.Closed && i.WatchUntil > monthEnd),
            },
        };

        return new SnapshotContent
        {
            Round = round.Code, RoundName = round.Name, Period = month.ToString(), MonthEnd = monthEnd, TakenAt = clock.UtcNow,
            Region = round.Region, Summary = summary, Issues = issues, Measures = measures, Indicators = indicators,
        };
    }

    /// <summary>
    /// The linked indicators at the region for the period holding the month and the one before: one query for the
    /// definitions, one for the values of the whole region subtree, combined in memory as the series endpoint does.
    /// </summary>
    static async Task<IReadOnlyList<SnapshotIndicator>> ReadIndicatorsAsync(IDbConnection connection, IDbTransaction? tx, string? region,
        Period month, IReadOnlyList<(long IndicatorId, string IssueCode)> links, CancellationToken ct)
    {
        if (links.Count == 0) return [];
        var ids = links.Select(l => l.IndicatorId).Distinct().ToArray();
        var definitions = (await connection.QueryAsync<IndicatorRow>(new CommandDefinition(IndicatorsSql, new { ids }, tx, cancellationToken: ct)))
            .ToList();
        var periods = definitions.Select(d => month.Containing(d.FrequencyValue)).SelectMany(p => new[] { p, p.Previous() })
            .Select(p => p.ToString()).Distinct().ToArray();

        var units = new List<(string Code, string? Parent)>();
        var values = new List<(string Indicator, string Unit, string Period, decimal Value)>();
        if (region is not null)
        {
            var codes = definitions.SelectMany(d => d.ValueType == "ratio" ? new[] { d.NumeratorCode!, d.DenominatorCode! } : [d.Code])
                .Distinct().ToArray();
            using var results = await connection.QueryMultipleAsync(new CommandDefinition($"{IndicatorSeries.SubtreeSql};\n{ValuesSql}",
                new { unit = region, codes, periods }, tx, cancellationToken: ct));
            units = (await results.ReadAsync<(string Code, string? Parent)>()).ToList();
            values = (await results.ReadAsync<(string Indicator, string Unit, string Period, decimal Value)>()).ToList();
        }
        var atRegion = new IndicatorSeries.UnitValues(units, region, values);
        var issueCodes = links.ToLookup(l => l.IndicatorId, l => l.IssueCode);

        return definitions.Select(d =>
        {
            decimal? ValueAt(Period p) => atRegion.Of(d, p.ToString());
            var period = month.Containing(d.FrequencyValue);
            var value = ValueAt(period);
            var previous = ValueAt(period.Previous());
            var changeBase = d.TimeAggregation == "cumulative" && period.IsFirstOfYear ? 0 : previous;
            return new SnapshotIndicator
            {
                Code = d.Code, Name = d.Name, MeasureUnit = d.MeasureUnit, Period = period.ToString(), Value = value,
                PreviousPeriod = period.Previous().ToString(), PreviousValue = previous,
                Change = IndicatorSeries.Computed(() => value - changeBase),
                TargetValue = d.TargetValue, TargetDate = d.TargetDate, TargetProgress = IndicatorSeries.Progress(d, value),
                Issues = issueCodes[d.Id].Distinct().Order(NaturalCode.Comparer).ToList(),
            };
        }).ToList();
    }

    static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

    sealed class SnapshotIssueRow
    {
        public long Id { get; init; }
        public string Code { get; init; } = "";
        public string? ParentCode { get; init; }
        public string Title { get; init; } = "";
        public string? Category { get; init; }
        public string? LeadUnit { get; init; }
        public string? ResponsibleLeader { get; init; }
        public string State { get; init; } = "";
        public DateOnly? DueDate { get; init; }
        public DateOnly? ClosedOn { get; init; }
        public bool Overdue { get; init; }
        public string? TrafficLight { get; init; }
        public decimal? Progress { get; init; }
        public DateOnly? OriginalDueDate { get; init; }
        public int DeferralCount { get; init; }
        public string? WarningLevel { get; init; }
        public DateOnly? WatchUntil { get; init; }

        public SnapshotIssue ToItem() => new()
        {
            Id = Id, Code = Code, ParentCode = ParentCode, Title = Title, Category = Category, LeadUnit = LeadUnit,
            ResponsibleLeader = ResponsibleLeader, State = EnumText.Parse<IssueState>(State), DueDate = DueDate, ClosedOn = ClosedOn,
            Overdue = Overdue,
            TrafficLight = TrafficLight is null ? null : EnumText.Parse<TrafficLight>(TrafficLight), Progress = Progress,
            OriginalDueDate = OriginalDueDate, DeferralCount = DeferralCount,
            WarningLevel = WarningLevel is null ? null : EnumText.Parse<Warnings.WarningLevel>(WarningLevel), WatchUntil = WatchUntil,
        };
    }

    sealed class SignOffCounts
    {
        public int Submitted { get; init; }
        public int Accepted { get; init; }
        public int Returned { get; init; }
    }

    sealed class SnapshotMeasureRow
    {
        public long Id { get; init; }
        public string IssueCode { get; init; } = "";
        public string Code { get; init; } = "";
        public string Title { get; init; } = "";
        public string? Description { get; init; }
        public string OwnerUnit { get; init; } = "";
        public string State { get; init; } = "";
        public decimal Progress { get; init; }
        public DateOnly? StartDate { get; init; }
        public DateOnly DueDate { get; init; }
        public DateOnly? CompletedOn { get; init; }
        public bool Overdue { get; init; }
        public string? TrafficLight { get; init; }
        public string? LatestNote { get; init; }
        public DateOnly? OriginalDueDate { get; init; }
        public int DeferralCount { get; init; }
        public string? WarningLevel { get; init; }

        public SnapshotMeasure ToItem() => new()
        {
            Id = Id, IssueCode = IssueCode, Code = Code, Title = Title, Description = Description, OwnerUnit = OwnerUnit,
            State = EnumText.Parse<MeasureState>(State),
            Progress = Progress, StartDate = StartDate, DueDate = DueDate, CompletedOn = CompletedOn, Overdue = Overdue,
            TrafficLight = TrafficLight is null ? null : EnumText.Parse<TrafficLight>(TrafficLight), LatestNote = LatestNote,
            OriginalDueDate = OriginalDueDate, DeferralCount = DeferralCount,
            WarningLevel = WarningLevel is null ? null : EnumText.Parse<Warnings.WarningLevel>(WarningLevel),
        };
    }

    const string RoundSql = $"""
        WITH RECURSIVE {Rounds.RoundRegion.Ctes}
        SELECT r.id, r.code, r.name, region.code AS region
        FROM rounds r LEFT JOIN region ON true
        WHERE r.code = @round
        """;

    const string IssuesSql = $"""
        SELECT i.id, i.code, p.code AS parent_code, i.title, i.category, i.lead_unit_code AS lead_unit, i.responsible_leader, i.state,
               i.due_date, i.closed_on,
               coalesce({Warnings.WarningLevels.Issue} = 'red', false) AS overdue,
               {Warnings.WarningLevels.IssueLight} AS traffic_light,
               {Warnings.WarningLevels.Issue} AS warning_level,
               s.progress,
               coalesce(i.original_due_date, i.due_date) AS original_due_date, i.deferral_count, i.watch_until
        FROM issues i
        LEFT JOIN issues p ON p.id = i.parent_id
        LEFT JOIN LATERAL (
            SELECT round(avg(m.progress) FILTER (WHERE m.state <> 'cancelled'), 2) AS progress FROM measures m WHERE m.issue_id = i.id
        ) s ON true
        WHERE i.round_id = @roundId
        """;

    const string MeasuresSql = $"""
        SELECT m.id, i.code AS issue_code, m.code, m.title, m.description, m.owner_unit_code AS owner_unit, m.state, m.progress,
               m.start_date, m.due_date, m.completed_on, {MeasureStates.DerivedColumns},
               n.note AS latest_note,
               coalesce(m.original_due_date, m.due_date) AS original_due_date, m.deferral_count
        FROM measures m
        JOIN issues i ON i.id = m.issue_id
        LEFT JOIN LATERAL (
            SELECT mp.note FROM measure_progress mp
            WHERE mp.measure_id = m.id AND mp.reported_on <= @monthEnd AND mp.note IS NOT NULL
            ORDER BY mp.reported_on DESC, mp.id DESC LIMIT 1
        ) n ON true
        WHERE i.round_id = @roundId
        """;

    // Items (issues and measures) of the round that entered each level during the month, as the daily job recorded it.
    const string EnteredSql = """
        SELECT to_level AS level, count(DISTINCT (item_kind, item_id))::int AS items
        FROM warning_changes
        WHERE round_id = @roundId AND changed_on BETWEEN @firstDay AND @monthEnd AND to_level IS NOT NULL
        GROUP BY to_level
        """;

    // Submissions and decisions dated in the month by the configured time zone's calendar.
    const string SignOffsSql = """
        SELECT count(*) FILTER (WHERE (s.submitted_at AT TIME ZONE @zone)::date BETWEEN @firstDay AND @monthEnd)::int AS submitted,
               count(*) FILTER (WHERE s.status = 'accepted'
                                  AND (s.decided_at AT TIME ZONE @zone)::date BETWEEN @firstDay AND @monthEnd)::int AS accepted,
               count(*) FILTER (WHERE s.status IN ('rejected', 'changes_requested')
                                  AND (s.decided_at AT TIME ZONE @zone)::date BETWEEN @firstDay AND @monthEnd)::int AS returned
        FROM sign_offs s JOIN issues i ON i.id = s.issue_id
        WHERE i.round_id = @roundId
        """;

    const string LinksSql = """
        SELECT ii.indicator_id, i.code AS issue_code
        FROM indicator_issues ii JOIN issues i ON i.id = ii.issue_id WHERE i.round_id = @roundId
        UNION
        SELECT im.indicator_id, i.code
        FROM indicator_measures im JOIN measures m ON m.id = im.measure_id JOIN issues i ON i.id = m.issue_id WHERE i.round_id = @roundId
        """;

    const string IndicatorsSql = """
        SELECT i.id, i.code, i.name, i.measure_unit, i.value_type, i.frequency, i.region_aggregation, i.time_aggregation, i.direction,
               i.target_value, i.target_date, i.baseline_value, i.baseline_period, n.code AS numerator_code, d.code AS denominator_code
        FROM indicators i
        LEFT JOIN indicators n ON n.id = i.numerator_id
        LEFT JOIN indicators d ON d.id = i.denominator_id
        WHERE i.id = ANY (@ids)
        ORDER BY i.code
        """;

    const string ValuesSql = """
        SELECT i.code, d.unit_code, d.period, d.value
        FROM data_values d JOIN indicators i ON i.id = d.indicator_id
        WHERE i.code = ANY (@codes) AND d.period = ANY (@periods) -- units outside the region's subtree are never looked up
        """;
}

/// <summary>Orders codes such as 1, 1.2, 2, 10 as people number them (not 1, 10, 2).</summary>
public static class NaturalCode
{
    public static readonly IComparer<string> Comparer = Comparer<string>.Create(Compare);

    public static int Compare(string? a, string? b)
    {
        var left = (a ?? "").Split('.');
        var right = (b ?? "").Split('.');
        for (var i = 0; i < Math.Min(left.Length, right.Length); i++)
        {
            var c = long.TryParse(left[i], out var x) && long.TryParse(right[i], out var y)
                ? x.CompareTo(y)
                : string.CompareOrdinal(left[i], right[i]);
            if (c != 0) return c;
        }
        return left.Length.CompareTo(right.Length);
    }
}
