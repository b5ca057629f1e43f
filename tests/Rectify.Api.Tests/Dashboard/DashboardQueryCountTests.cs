using System.Diagnostics;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Dashboard;

/// <summary>
/// The dashboard answers from a handful of set-based queries, not a query per row: the database commands of one request
/// are counted (see <see cref="CommandTrace"/>) and do not grow from 10 to 1,000 measures.
/// </summary>
public sealed class DashboardQueryCountTests(RectifyApp app, ITestOutputHelper output) : IClassFixture<RectifyApp>
{
    const int MaxCommands = 6;

    readonly DashboardKit _kit = new(app);

    static readonly DateOnly Today = new(2025, 6, 15); // the harness's clock

    sealed record Traced(JsonNode Dashboard, IReadOnlyList<Activity> Commands);

    async Task<Traced> TracedDashboardAsync(string round)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, DashboardKit.Url(round));
        request.Headers.Add("Consistency", "strong"); // the work of a read that reaches the database, not one the node's read cache answers
        var (response, commands) = await CommandTrace.SendAsync(_kit.Client, request, output);
        using (response) return new Traced(await response.ShouldBeAsync(System.Net.HttpStatusCode.OK), commands);
    }

    async Task<string> RoundWithMeasuresAsync(int count)
    {
        var round = await _kit.Seed.RoundAsync();
        await _kit.InsertMeasuresAsync(round, count, Today);
        return round;
    }

    [Fact]
    public async Task The_commands_of_one_request_are_few_and_do_not_grow_from_10_to_1000_measures()
    {
        var small = await RoundWithMeasuresAsync(10);
        var large = await RoundWithMeasuresAsync(1000);
        await _kit.DashboardAsync(small); // warm up: the first request of a fresh app opens the pool's first connection

        var atTen = await TracedDashboardAsync(small);
        var atThousand = await TracedDashboardAsync(large);

        output.WriteLine($"database commands: {atTen.Commands.Count} for 10 measures, {atThousand.Commands.Count} for 1,000");
        Assert.InRange(atTen.Commands.Count, 1, MaxCommands);
        Assert.Equal(atTen.Commands.Count, atThousand.Commands.Count);
        AssertFigures(atTen.Dashboard, 10);
        AssertFigures(atThousand.Dashboard, 1000);
    }

    /// <summary>Every figure of the dashboard against the same figures computed here from what was inserted.</summary>
    static void AssertFigures(JsonNode dashboard, int count)
    {
        var measures = Enumerable.Range(1, count).Select(n => (N: n, M: DashboardKit.Generated(n, Today))).ToList();
        bool Unfinished(string state) => state is "planned" or "in_progress";
        var overdue = measures.Where(x => Unfinished(x.M.State) && x.M.DueDate < Today).ToList();
        var dueSoon = measures.Where(x => Unfinished(x.M.State) && x.M.DueDate >= Today && x.M.DueDate <= Today.AddDays(10)).ToList();

        string[] states = ["planned", "in_progress", "done", "cancelled"];
        Assert.Equal(states.Select(s => measures.Count(x => x.M.State == s)), DashboardKit.Counts(dashboard["measuresByState"]!, states));
        // Five areas in progress, each with one open sub-issue.
        Assert.Equal([5, 5, 0, 0, 0], DashboardKit.Counts(dashboard["issuesByState"]!, "open", "in_progress", "pending_review", "closed", "long_term"));
        Assert.Equal(count, DashboardKit.Int(dashboard["totals"]!["measures"]));
        Assert.Equal(10, DashboardKit.Int(dashboard["totals"]!["issues"]));
        Assert.Equal(5, DashboardKit.Int(dashboard["totals"]!["topLevelIssues"]));

        var done = measures.Count(x => x.M.State == "done");
        var counted = measures.Count(x => x.M.State != "cancelled");
        Assert.Equal(Math.Round(done * 100m / counted, 2, MidpointRounding.AwayFromZero), DashboardKit.Decimal(dashboard["completionRate"]));

        Assert.Equal(overdue.Count, DashboardKit.Int(dashboard["overdue"]!["total"]));
        Assert.Equal(overdue.Count, DashboardKit.Int(dashboard["totals"]!["overdueMeasures"]));
        var expectedLate = overdue.OrderBy(x => x.M.DueDate).ThenBy(x => x.N).Take(50).Select(x => ("M" + x.N, Today.DayNumber - x.M.DueDate.DayNumber)).ToList();
        Assert.Equal(expectedLate, dashboard["overdue"]!["items"]!.AsArray().Select(m => (DashboardKit.Text(m!["code"])!, DashboardKit.Int(m["daysOverdue"]))));

        Assert.Equal(dueSoon.Count, DashboardKit.Int(dashboard["dueSoon"]!["total"]));
        Assert.Equal(dueSoon.Count, DashboardKit.Int(dashboard["totals"]!["dueSoonMeasures"]));
        var expectedSoon = dueSoon.OrderBy(x => x.M.DueDate).ThenBy(x => x.N).Take(50).Select(x => ("M" + x.N, x.M.DueDate.DayNumber - Today.DayNumber)).ToList();
        Assert.Equal(expectedSoon, dashboard["dueSoon"]!["items"]!.AsArray().Select(m => (DashboardKit.Text(m!["code"])!, DashboardKit.Int(m["daysLeft"]))));
        Assert.All(dashboard["overdue"]!["items"]!.AsArray().Concat(dashboard["dueSoon"]!["items"]!.AsArray()), m =>
            Assert.Contains(DashboardKit.Text(m!["ownerUnitName"]), new[] { "社会事务处", "社会救助处" }));

        var areas = dashboard["areas"]!.AsArray();
        Assert.Equal(["1", "2", "3", "4", "5"], areas.Select(a => DashboardKit.Text(a!["code"])));
        foreach (var area in areas)
        {
            var number = int.Parse(DashboardKit.Text(area!["code"])!, System.Globalization.CultureInfo.InvariantCulture);
            var own = measures.Where(x => x.M.Area == number).ToList();
            var active = own.Where(x => x.M.State != "cancelled").ToList();
            Assert.Equal(1, DashboardKit.Int(area["subIssues"]));
            Assert.Equal(own.Count, DashboardKit.Int(area["measures"]));
            Assert.Equal(own.Count(x => x.M.State == "done"), DashboardKit.Int(area["done"]));
            Assert.Equal(own.Count(x => x.M.State == "cancelled"), DashboardKit.Int(area["cancelled"]));
            Assert.Equal(own.Count(x => Unfinished(x.M.State) && x.M.DueDate < Today), DashboardKit.Int(area["overdue"]));
            Assert.Equal(active.Count == 0 ? null : Math.Round(active.Average(x => x.M.Progress), 2, MidpointRounding.AwayFromZero),
                DashboardKit.Decimal(area["progress"]));
        }
    }
}
