using System.Data;
using Dapper;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Rounds;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Dashboard;

/// <summary>
/// Reads a round's dashboard in one round trip: one batch of set-based statements, each aggregating in the database,
/// so that the work grows with the size of the answer (capped lists, one row per area and indicator), not with the
/// number of measures.
/// </summary>
public sealed class DashboardRepository(Db db)
{
    /// <summary>Longest overdue and due-soon lists; the totals count every one.</summary>
    public const int ListCap = 50;

    /// <summary>Months of the completion-rate trend.</summary>
    public const int TrendPeriods = 24;

    /// <summary>The dashboard of the round as of <paramref name="today"/>, or null when there is no such round.</summary>
    public Task<DashboardResponse?> ReadAsync(string round, DateOnly today, DateOnly dueSoon, CancellationToken ct)
    {
        var args = new { round, today, dueSoon, cap = ListCap, trendPeriods = TrendPeriods, until = (string?)null, publishedOnly = false };
        return db.ReadAsync(async (connection, token) =>
        {
            // Repeatable read: the statements of the batch see one snapshot, so that the counts, the lists and the
            // areas agree with each other while measures change underneath. Npgsql sends BEGIN with the batch.
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, token);
            DashboardResponse? dashboard;
            using (var results = await connection.QueryMultipleAsync(new CommandDefinition(Sql, args, transaction, cancellationToken: token)))
            {
                var head = await results.ReadSingleOrDefaultAsync<HeadRow>();
                var issueStates = (await results.ReadAsync<IssueStateRow>()).AsList();
                var measureStates = (await results.ReadAsync<MeasureStateRow>()).AsList();
                var overdue = (await results.ReadAsync<ListedMeasureRow>()).AsList();
                var dueSoonList = (await results.ReadAsync<ListedMeasureRow>()).AsList();
                var areas = (await results.ReadAsync<AreaRow>()).AsList();
                var definitions = (await results.ReadAsync<IndicatorRow>()).AsList();
                var figures = (await results.ReadAsync<FigureRow>()).AsList();
                var trend = (await results.ReadAsync<TrendRow>()).AsList();
                dashboard = head is null ? null : Compose(head, today, dueSoon, issueStates, measureStates, overdue, dueSoonList, areas,
                    Indicators(definitions, figures), trend);
            }
            await transaction.CommitAsync(token);
            return dashboard;
        }, ct);
    }

    static DashboardResponse Compose(HeadRow head, DateOnly today, DateOnly dueSoon, List<IssueStateRow> issueStates,
        List<MeasureStateRow> measureStates, List<ListedMeasureRow> overdue, List<ListedMeasureRow> dueSoonList, List<AreaRow> areas,
        List<DashboardIndicator> indicators, List<TrendRow> trend)
    {
        var measuresByState = ByState<MeasureState>(measureStates.ToDictionary(r => r.State, r => r.Count));
        // Overdue and due soon concern unfinished measures only; the statement counts them per state.
        var unfinished = measureStates.Where(r => r.State is not ("done" or "cancelled")).ToList();
        var done = measuresByState[EnumText.Format(MeasureState.Done)];
        var cancelled = measuresByState[EnumText.Format(MeasureState.Cancelled)];
        var measures = measureStates.Sum(r => r.Count);
        var overdueTotal = unfinished.Sum(r => r.Overdue);
        var dueSoonTotal = unfinished.Sum(r => r.DueSoon);
        return new DashboardResponse
        {
            Round = head.Code,
            RoundName = head.Name,
            AsOf = today,
            DueSoonUntil = dueSoon,
            Region = head.RegionCode,
            RegionName = head.RegionName,
            Totals = new DashboardTotals
            {
                Issues = issueStates.Sum(r => r.Count),
                TopLevelIssues = areas.Count,
                Measures = measures,
                OverdueIssues = issueStates.Sum(r => r.Overdue),
                OverdueMeasures = overdueTotal,
                DueSoonMeasures = dueSoonTotal,
                DeferredIssues = issueStates.Sum(r => r.Deferred),
                DeferredMeasures = measureStates.Sum(r => r.Deferred),
                Deferrals = issueStates.Sum(r => r.Deferrals) + measureStates.Sum(r => r.Deferrals),
                ConsolidatingIssues = issueStates.Sum(r => r.Consolidating),
            },
            IssuesByState = ByState<IssueState>(issueStates.ToDictionary(r => r.State, r => r.Count)),
            MeasuresByState = measuresByState,
            CompletionRate = Percent.Of(done, measures - cancelled),
            Overdue = new DashboardList<OverdueMeasure>
            {
                Total = overdueTotal,
                Items = overdue.Select(r => r.ToOverdue()).ToList(),
            },
            DueSoon = new DashboardList<DueSoonMeasure>
            {
                Total = dueSoonTotal,
                Items = dueSoonList.Select(r => r.ToDueSoon()).ToList(),
            },
            Areas = areas.Select(a => a.ToArea()).ToList(),
            Indicators = indicators,
            Trend = trend.Select(t => new CompletionTrendPoint
            {
                Period = t.Period, Revision = t.Revision, Status = EnumText.Parse<SnapshotStatus>(t.Status), CompletionRate = t.CompletionRate,
            }).ToList(),
        };
    }

    /// <summary>Every state of <typeparamref name="T"/> as its snake_case name, with zeros for the states nobody is in.</summary>
    static Dictionary<string, int> ByState<T>(Dictionary<string, int> counts) where T : struct, Enum
        => Enum.GetValues<T>().Select(EnumText.Format).ToDictionary(s => s, s => counts.GetValueOrDefault(s));

    /// <summary>
    /// Each indicator at the region as its series gives it (its own value, else its sub-regions combined as the
    /// indicator says — the roll-up kept by the push; a ratio divides its parts), in the latest candidate period where
    /// that value exists. Without a region there are no figures, and every value is null.
    /// </summary>
    static List<DashboardIndicator> Indicators(List<IndicatorRow> definitions, List<FigureRow> figures)
    {
        var byIndicator = figures.ToLookup(v => v.IndicatorId);
        return definitions.Select(d =>
        {
            var atRegion = new IndicatorSeries.UnitFigures(byIndicator[d.Id]);
            var (period, value) = byIndicator[d.Id].Select(v => v.Period).Distinct().OrderDescending(StringComparer.Ordinal)
                .Select(p => (Period: (string?)p, Value: atRegion.Of(d, p))).FirstOrDefault(x => x.Value is not null);
            return new DashboardIndicator
            {
                Code = d.Code, Name = d.Name, MeasureUnit = d.MeasureUnit, ValueType = EnumText.Parse<IndicatorValueType>(d.ValueType),
                Direction = EnumText.Parse<IndicatorDirection>(d.Direction), BaselineValue = d.BaselineValue, TargetValue = d.TargetValue ?? 0,
                TargetDate = d.TargetDate, Period = period, Value = value, Progress = IndicatorSeries.Progress(d, value),
            };
        }).ToList();
    }

    sealed class HeadRow
    {
        public string Code { get; init; } = "";
        public string Name { get; init; } = "";
        public string? RegionCode { get; init; }
        public string? RegionName { get; init; }
    }

    sealed class IssueStateRow
    {
        public string State { get; init; } = "";
        public int Count { get; init; }
        public int Overdue { get; init; }
        public int Deferred { get; init; }
        public int Deferrals { get; init; }
        public int Consolidating { get; init; }
    }

    sealed class MeasureStateRow
    {
        public string State { get; init; } = "";
        public int Count { get; init; }
        public int Overdue { get; init; }
        public int DueSoon { get; init; }
        public int Deferred { get; init; }
        public int Deferrals { get; init; }
    }

    sealed class ListedMeasureRow
    {
        public long Id { get; init; }
        public long IssueId { get; init; }
        public string IssueCode { get; init; } = "";
        public string Code { get; init; } = "";
        public string Title { get; init; } = "";
        public string OwnerUnitCode { get; init; } = "";
        public string OwnerUnitName { get; init; } = "";
        public string State { get; init; } = "";
        public decimal Progress { get; init; }
        public DateOnly DueDate { get; init; }
        public int Days { get; init; }

        public OverdueMeasure ToOverdue() => new()
        {
            Id = Id, IssueId = IssueId, IssueCode = IssueCode, Code = Code, Title = Title, OwnerUnit = OwnerUnitCode, OwnerUnitName = OwnerUnitName,
            State = EnumText.Parse<MeasureState>(State), Progress = Progress, DueDate = DueDate, DaysOverdue = Days,
        };

        public DueSoonMeasure ToDueSoon() => new()
        {
            Id = Id, IssueId = IssueId, IssueCode = IssueCode, Code = Code, Title = Title, OwnerUnit = OwnerUnitCode, OwnerUnitName = OwnerUnitName,
            State = EnumText.Parse<MeasureState>(State), Progress = Progress, DueDate = DueDate, DaysLeft = Days,
        };
    }

    sealed class AreaRow
    {
        public long IssueId { get; init; }
        public string Code { get; init; } = "";
        public string Title { get; init; } = "";
        public string? Category { get; init; }
        public string State { get; init; } = "";
        public int SubIssues { get; init; }
        public int Measures { get; init; }
        public int Done { get; init; }
        public int Cancelled { get; init; }
        public int Overdue { get; init; }
        public decimal? Progress { get; init; }

        public DashboardArea ToArea() => new()
        {
            IssueId = IssueId, Code = Code, Title = Title, Category = Category, State = EnumText.Parse<IssueState>(State), SubIssues = SubIssues,
            Measures = Measures, Done = Done, Cancelled = Cancelled, Overdue = Overdue, Progress = Progress,
            CompletionRate = Percent.Of(Done, Measures - Cancelled),
        };
    }

    /// <summary>One part of a linked indicator (the indicator itself, or a ratio's numerator or denominator) at the region in one period.</summary>
    sealed class FigureRow : IndicatorSeries.StoredFigure
    {
        public long IndicatorId { get; init; }
    }

    sealed class TrendRow
    {
        public string Period { get; init; } = "";
        public int Revision { get; init; }
        public string Status { get; init; } = "";
        public decimal? CompletionRate { get; init; }
    }

    // The indicators linked to the round, through its issues or its measures.
    const string Linked = """
        linked AS (
            SELECT ii.indicator_id
            FROM indicator_issues ii JOIN issues i ON i.id = ii.issue_id JOIN rounds r ON r.id = i.round_id
            WHERE r.code = @round
            UNION
            SELECT im.indicator_id
            FROM indicator_measures im JOIN measures m ON m.id = im.measure_id JOIN issues i ON i.id = m.issue_id JOIN rounds r ON r.id = i.round_id
            WHERE r.code = @round
        )
        """;

    const string RoundMeasures = """
        measures m
        JOIN issues i ON i.id = m.issue_id
        JOIN rounds r ON r.id = i.round_id
        """;

    // Overdue and due soon as the measure's own traffic light has them: red before today, yellow from today through dueSoon.
    const string ListedColumns = """
        SELECT m.id, m.issue_id, i.code AS issue_code, m.code, m.title, m.owner_unit_code, u.name AS owner_unit_name,
               m.state, m.progress, m.due_date
        """;

    const string Sql = $"""
        WITH RECURSIVE {RoundRegion.Ctes}
        SELECT r.code, r.name, region.code AS region_code, region.name AS region_name
        FROM rounds r LEFT JOIN region ON true
        WHERE r.code = @round;

        SELECT i.state, count(*)::int AS count,
               count(*) FILTER (WHERE i.due_date < @today AND i.state IN ('open', 'in_progress'))::int AS overdue,
               count(*) FILTER (WHERE i.deferral_count > 0)::int AS deferred, sum(i.deferral_count)::int AS deferrals,
               count(*) FILTER (WHERE {IssueRepository.Consolidating})::int AS consolidating
        FROM issues i JOIN rounds r ON r.id = i.round_id
        WHERE r.code = @round
        GROUP BY i.state;

        SELECT m.state, count(*)::int AS count,
               count(*) FILTER (WHERE m.due_date < @today)::int AS overdue,
               count(*) FILTER (WHERE m.due_date BETWEEN @today AND @dueSoon)::int AS due_soon,
               count(*) FILTER (WHERE m.deferral_count > 0)::int AS deferred, sum(m.deferral_count)::int AS deferrals
        FROM {RoundMeasures}
        WHERE r.code = @round
        GROUP BY m.state;

        {ListedColumns}, (@today - m.due_date) AS days
        FROM {RoundMeasures}
        JOIN units u ON u.code = m.owner_unit_code
        WHERE r.code = @round AND m.state NOT IN ('done', 'cancelled') AND m.due_date < @today
        ORDER BY m.due_date, m.id
        LIMIT @cap;

        {ListedColumns}, (m.due_date - @today) AS days
        FROM {RoundMeasures}
        JOIN units u ON u.code = m.owner_unit_code
        WHERE r.code = @round AND m.state NOT IN ('done', 'cancelled') AND m.due_date BETWEEN @today AND @dueSoon
        ORDER BY m.due_date, m.id
        LIMIT @cap;

        -- The round's issues once (index on round_id), the areas' trees among them, and each issue's measures through
        -- the index on issue_id: the work grows with the round, not with the measures of every round. Migration 0018: a
        -- function, so that its plan is kept for the session.
        SELECT issue_id, code, title, category, state, sub_issues, measures, done, cancelled, overdue, progress
        FROM dashboard_areas(@round, @today);

        WITH {Linked}
        SELECT ind.id, ind.code, ind.name, ind.measure_unit, ind.value_type, ind.frequency, ind.region_aggregation, ind.time_aggregation,
               ind.direction, ind.target_value, ind.target_date, ind.baseline_value, ind.baseline_period,
               n.code AS numerator_code, d.code AS denominator_code
        FROM indicators ind
        JOIN linked l ON l.indicator_id = ind.id
        LEFT JOIN indicators n ON n.id = ind.numerator_id
        LEFT JOIN indicators d ON d.id = ind.denominator_id
        WHERE ind.target_value IS NOT NULL
        ORDER BY ind.code;

        -- Migration 0018: a function, so that its plan is kept for the session.
        SELECT indicator_id, part, period, own, total, mean FROM dashboard_figures(@round);

        {SnapshotRepository.TrendSql}
        """;
}
