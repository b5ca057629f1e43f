using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Dashboard;

public static class DashboardEndpoints
{
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/rounds/{round}/dashboard", Get).RequireScope(Scopes.Read)
            .WithTags("Dashboard")
            .WithName("GetRoundDashboard")
            .WithSummary("Get a round's dashboard")
            .WithDescription(
                "The round at a glance (整改工作看板), computed from live data as of today in the configured time zone: issues and " +
                "measures by state (every state, zeros included), the completion rate (done measures / measures not cancelled), " +
                "the overdue and due-soon measures with their owners (the first 50 of each, with the total), progress per problem " +
                "area (each top-level issue with its sub-issues' measures), the indicators linked to the round that have a target " +
                "with their latest value at the round's region (the top-most region above the inspected unit), as the indicator's " +
                "series gives it, and the progress towards the target, and the completion rate recorded by the latest revision of " +
                "each monthly snapshot (the last 24 months), oldest first. One database round trip, whatever the number of measures.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Dashboard);
        return routes;
    }

    static async Task<KeptOk<DashboardResponse>> Get(string round, DashboardUseCases dashboards, CancellationToken ct)
        => new(await dashboards.GetAsync(round, ct));

    /// <summary>The demo data's dashboard on the reference report's date: nothing overdue or due within ten days.</summary>
    static class Examples
    {
        static readonly DateOnly Today = new(2025, 11, 5);

        // The reference case's problem areas have no sub-issues, and nothing in them is cancelled or overdue on the report date.
        static DashboardArea Area(long id, string title, string category, IssueState state, int measures, int done, decimal progress,
            decimal completionRate)
            => new()
            {
                IssueId = id, Code = id.ToString(System.Globalization.CultureInfo.InvariantCulture), Title = title, Category = category,
                State = state,
                SubIssues = 0, Measures = measures, Done = done, Cancelled = 0, Overdue = 0, Progress = progress, CompletionRate = completionRate,
            };

        public static readonly DashboardResponse Dashboard = new()
        {
            Round = "HN-8-6-6", RoundName = "八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视", AsOf = Today, DueSoonUntil = Today.AddDays(10),
            Region = "460000", RegionName = "海南省",
            Totals = new DashboardTotals { Issues = 9, TopLevelIssues = 9, Measures = 25, OverdueIssues = 0, OverdueMeasures = 0, DueSoonMeasures = 0,
                DeferredIssues = 0, DeferredMeasures = 0, Deferrals = 0, ConsolidatingIssues = 0 },
            IssuesByState = new Dictionary<string, int>
            {
                ["open"] = 0, ["in_progress"] = 5, ["pending_review"] = 2, ["closed"] = 0, ["long_term"] = 2
            },
            MeasuresByState = new Dictionary<string, int> { ["planned"] = 0, ["in_progress"] = 9, ["done"] = 16, ["cancelled"] = 0 },
            CompletionRate = 64.00m,
            Overdue = new DashboardList<OverdueMeasure> { Total = 0, Items = [] },
            DueSoon = new DashboardList<DueSoonMeasure> { Total = 0, Items = [] },
            Areas =
            [
                Area(1, "殡葬改革推行不力", "殡葬管理", IssueState.InProgress, measures: 2, done: 0, progress: 62.50m, completionRate: 0.00m),
                Area(2, "分层分类的社会救助体系不够健全", "社会救助", IssueState.LongTerm, measures: 3, done: 3, progress: 100.00m, completionRate: 100.00m),
                Area(3, "养老服务事业短板突出", "养老服务", IssueState.InProgress, measures: 3, done: 1, progress: 73.33m, completionRate: 33.33m),
                Area(4, "关心关爱困难群众力度不足", "困难群众关爱", IssueState.PendingReview, measures: 3, done: 3, progress: 100.00m, completionRate: 100.00m),
                Area(5, "统筹推动民政事业高质量发展乏力", "民政事业发展", IssueState.LongTerm, measures: 4, done: 4, progress: 100.00m, completionRate: 100.00m),
                Area(6, "落实主体责任存在差距", "全面从严治党", IssueState.InProgress, measures: 3, done: 1, progress: 86.00m, completionRate: 33.33m),
                Area(7, "履行监督责任不够有力", "监督执纪", IssueState.PendingReview, measures: 2, done: 2, progress: 100.00m, completionRate: 100.00m),
                Area(8, "党的建设存在短板", "党的建设", IssueState.InProgress, measures: 2, done: 1, progress: 90.00m, completionRate: 50.00m),
                Area(9, "落实整改主体责任不够到位", "整改落实", IssueState.InProgress, measures: 3, done: 1, progress: 73.33m, completionRate: 33.33m),
            ],
            Indicators =
            [
                new DashboardIndicator
                {
                    Code = "FUNERAL-PROBLEMS-FIX-RATE", Name = "殡葬领域专项整治问题整改完成率", MeasureUnit = "%", ValueType = IndicatorValueType.Ratio,
                    Direction = IndicatorDirection.HigherIsBetter, TargetValue = 100, TargetDate = new DateOnly(2025, 12, 31), Period = "2025-10",
                    Value = 93.6242m, Progress = 93.62m,
                },
                new DashboardIndicator
                {
                    Code = "FUNERAL-PROBLEMS-FIXED", Name = "殡葬领域专项整治完成整改问题数", MeasureUnit = "个", ValueType = IndicatorValueType.Count,
                    Direction = IndicatorDirection.HigherIsBetter, TargetValue = 596, TargetDate = new DateOnly(2025, 12, 31), Period = "2025-10",
                    Value = 558m, Progress = 93.62m,
                },
            ],
            Trend =
            [
                new CompletionTrendPoint { Period = "2025-10", Revision = 1, Status = SnapshotStatus.Published, CompletionRate = 64.00m },
            ],
        };
    }
}
