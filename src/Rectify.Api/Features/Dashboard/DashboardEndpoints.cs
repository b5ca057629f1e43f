using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure.Auth;
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

    static async Task<Ok<DashboardResponse>> Get(string round, DashboardRepository dashboards, Caller caller, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's dashboard");
        return TypedResults.Ok(await dashboards.ReadAsync(round, ct) ?? throw Problem.NotFound("round", round));
    }

    static class Examples
    {
        static readonly DateOnly Today = new(2025, 11, 5);

        public static readonly DashboardResponse Dashboard = new()
        {
            Round = "HN-8-6-6", RoundName = "八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视", AsOf = Today, DueSoonUntil = Today.AddDays(10),
            Region = "460000", RegionName = "海南省",
            Totals = new DashboardTotals { Issues = 34, TopLevelIssues = 9, Measures = 25, OverdueIssues = 1, OverdueMeasures = 1, DueSoonMeasures = 1 },
            IssuesByState = new Dictionary<string, int> { ["open"] = 0, ["in_progress"] = 21, ["pending_review"] = 2, ["closed"] = 8, ["long_term"] = 3 },
            MeasuresByState = new Dictionary<string, int> { ["planned"] = 2, ["in_progress"] = 12, ["done"] = 11, ["cancelled"] = 0 },
            CompletionRate = 44.00m,
            Overdue = new DashboardList<OverdueMeasure>
            {
                Total = 1,
                Items =
                [
                    new OverdueMeasure
                    {
                        Id = 14, IssueId = 6, IssueCode = "6", Code = "6.2", Title = "深化殡葬领域专项整治", OwnerUnit = "HNMZT.SHSW", OwnerUnitName = "社会事务处",
                        State = MeasureState.InProgress, Progress = 93.6m, DueDate = new DateOnly(2025, 10, 31), DaysOverdue = 5,
                    },
                ],
            },
            DueSoon = new DashboardList<DueSoonMeasure>
            {
                Total = 1,
                Items =
                [
                    new DueSoonMeasure
                    {
                        Id = 3, IssueId = 1, IssueCode = "1", Code = "1.3", Title = "推进殡葬设施项目建设", OwnerUnit = "HNMZT.SHSW", OwnerUnitName = "社会事务处",
                        State = MeasureState.InProgress, Progress = 65m, DueDate = new DateOnly(2025, 11, 15), DaysLeft = 10,
                    },
                ],
            },
            Areas =
            [
                new DashboardArea
                {
                    IssueId = 1, Code = "1", Title = "殡葬改革推行不力", Category = "殡葬管理", State = IssueState.InProgress, SubIssues = 3,
                    Measures = 4, Done = 2, Cancelled = 0, Overdue = 1, Progress = 76.65m, CompletionRate = 50.00m,
                },
            ],
            Indicators =
            [
                new DashboardIndicator
                {
                    Code = "FUNERAL-PROBLEMS-FIX-RATE", Name = "殡葬领域专项整治问题整改完成率", MeasureUnit = "%", ValueType = IndicatorValueType.Ratio,
                    Direction = IndicatorDirection.HigherIsBetter, TargetValue = 100, TargetDate = new DateOnly(2025, 12, 31), Period = "2025-09",
                    Value = 93.6242m, Progress = 93.62m,
                },
            ],
            Trend =
            [
                new CompletionTrendPoint { Period = "2025-09", Revision = 1, Status = SnapshotStatus.Published, CompletionRate = 36.00m },
                new CompletionTrendPoint { Period = "2025-10", Revision = 2, Status = SnapshotStatus.Published, CompletionRate = 44.00m },
            ],
        };
    }
}
