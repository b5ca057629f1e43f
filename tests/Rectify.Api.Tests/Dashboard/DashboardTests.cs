using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Dashboard;

/// <summary>
/// GET /api/v1/rounds/{round}/dashboard on a round built through the API. Today is 2025-06-15 in Shanghai (the clock
/// is not moved here), so due soon runs from 2025-06-15 through 2025-06-25 (10 days, the default).
/// </summary>
public sealed class DashboardTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly DashboardKit _kit = new(app);

    /// <summary>
    /// Six issues: 1 殡葬管理 (in_progress) with sub-issue 1.1 (open) and its sub-issue 1.1.1 (open, due 2025-06-01: overdue);
    /// 2 社会救助 (long_term); 3 养老服务 (closed); 4 儿童福利 (open, no measures). Eleven measures:
    /// m1 planned, due 2025-06-14 (yesterday: overdue 1 day), 社会事务处, issue 1;
    /// m2 in_progress, due 2025-06-15 (today: due soon, 0 days), 社会救助处, issue 1;
    /// m3 done, due 2025-06-01, issue 1;
    /// m4 cancelled at 80%, due 2025-05-01, issue 1;
    /// m5 in_progress at 40%, due 2025-06-25 (the last due-soon day), issue 1.1;
    /// m6 planned, due 2025-06-26 (the day after the window), issue 1.1;
    /// m7 in_progress at 20%, due 2025-05-15 (overdue 31 days), 社会救助处, issue 1.1.1;
    /// m8 done and m10 cancelled, both due 2025-06-20 (inside the window, but finished), m9 planned, issue 2;
    /// m11 done, issue 3.
    /// </summary>
    async Task<Scenario> ScenarioAsync()
    {
        var round = await _kit.Seed.RoundAsync();
        var a = await _kit.IssueAsync(round, "1", "殡葬管理");
        var a1 = await _kit.IssueAsync(round, "1.1", "殡葬管理", parentId: a);
        var a11 = await _kit.IssueAsync(round, "1.1.1", "殡葬管理", parentId: a1, dueDate: "2025-06-01");
        var b = await _kit.IssueAsync(round, "2", "社会救助", title: "分层分类的社会救助体系不够健全");
        var c = await _kit.IssueAsync(round, "3", "养老服务", title: "养老服务事业短板突出");
        var d = await _kit.IssueAsync(round, "4", "儿童福利", title: "儿童福利保障不够到位");

        var m1 = await _kit.MeasureAsync(a, "1", "2025-06-14");
        var m2 = await _kit.MeasureAsync(a, "2", "2025-06-15", "in_progress", owner: "HNMZT.SHJZ");
        await _kit.MeasureAsync(a, "3", "2025-06-01", "done");
        await _kit.MeasureAsync(a, "4", "2025-05-01", "cancelled", progress: 80);
        var m5 = await _kit.MeasureAsync(a1, "5", "2025-06-25", "in_progress", progress: 40);
        await _kit.MeasureAsync(a1, "6", "2025-06-26");
        var m7 = await _kit.MeasureAsync(a11, "7", "2025-05-15", "in_progress", owner: "HNMZT.SHJZ", progress: 20);
        await _kit.MeasureAsync(b, "8", "2025-06-20", "done");
        await _kit.MeasureAsync(b, "9", "2025-12-31");
        await _kit.MeasureAsync(b, "10", "2025-06-20", "cancelled");
        await _kit.MeasureAsync(c, "11", "2025-06-30", "done");

        await _kit.Issues.MoveAsync(a, "in_progress");
        await _kit.Issues.MoveAsync(b, "long_term");
        foreach (var step in new[] { "in_progress", "pending_review", "closed" }) await _kit.Issues.MoveAsync(c, step);
        return new Scenario(round, a, b, c, d, m1, m2, m5, m7);
    }

    sealed record Scenario(string Round, long A, long B, long C, long D, long M1, long M2, long M5, long M7);

    [Fact]
    public async Task Counts_by_state_are_exact_with_every_state_present()
    {
        var s = await ScenarioAsync();
        var dashboard = await _kit.DashboardAsync(s.Round);

        Assert.Equal(s.Round, DashboardKit.Text(dashboard["round"]));
        Assert.Equal("八届省委第六轮巡视", DashboardKit.Text(dashboard["roundName"]));
        Assert.Equal("2025-06-15", DashboardKit.Text(dashboard["asOf"]));
        Assert.Equal("2025-06-25", DashboardKit.Text(dashboard["dueSoonUntil"]));

        var issues = dashboard["issuesByState"]!.AsObject();
        Assert.Equal(["open", "in_progress", "pending_review", "closed", "long_term"], issues.Select(p => p.Key));
        Assert.Equal([3, 1, 0, 1, 1], DashboardKit.Counts(issues, "open", "in_progress", "pending_review", "closed", "long_term"));
        var measures = dashboard["measuresByState"]!.AsObject();
        Assert.Equal(["planned", "in_progress", "done", "cancelled"], measures.Select(p => p.Key));
        Assert.Equal([3, 3, 3, 2], DashboardKit.Counts(measures, "planned", "in_progress", "done", "cancelled"));

        var totals = dashboard["totals"]!;
        Assert.Equal(6, DashboardKit.Int(totals["issues"]));
        Assert.Equal(4, DashboardKit.Int(totals["topLevelIssues"]));
        Assert.Equal(11, DashboardKit.Int(totals["measures"]));
        Assert.Equal(1, DashboardKit.Int(totals["overdueIssues"])); // 1.1.1, open and due 2025-06-01
        Assert.Equal(2, DashboardKit.Int(totals["overdueMeasures"]));
        Assert.Equal(2, DashboardKit.Int(totals["dueSoonMeasures"]));
        Assert.Equal(33.33m, DashboardKit.Decimal(dashboard["completionRate"])); // 3 done of 9 not cancelled
        Assert.Empty(dashboard["trend"]!.AsArray());
        Assert.Empty(dashboard["indicators"]!.AsArray());
    }

    [Fact]
    public async Task Overdue_and_due_soon_lists_are_exact_at_their_boundaries_and_name_the_owners()
    {
        var s = await ScenarioAsync();
        var dashboard = await _kit.DashboardAsync(s.Round);

        var overdue = dashboard["overdue"]!;
        Assert.Equal(2, DashboardKit.Int(overdue["total"]));
        var late = overdue["items"]!.AsArray();
        Assert.Equal([s.M7, s.M1], late.Select(m => m!["id"]!.GetValue<long>())); // most overdue first
        AssertListed(late[0]!, s.M7, "1.1.1", "7", "HNMZT.SHJZ", "社会救助处", "in_progress", 20, "2025-05-15");
        Assert.Equal(31, DashboardKit.Int(late[0]!["daysOverdue"]));
        AssertListed(late[1]!, s.M1, "1", "1", "HNMZT.SHSW", "社会事务处", "planned", 0, "2025-06-14");
        Assert.Equal(1, DashboardKit.Int(late[1]!["daysOverdue"]));
        Assert.Null(late[0]!["daysLeft"]);

        var dueSoon = dashboard["dueSoon"]!;
        Assert.Equal(2, DashboardKit.Int(dueSoon["total"]));
        var soon = dueSoon["items"]!.AsArray();
        Assert.Equal([s.M2, s.M5], soon.Select(m => m!["id"]!.GetValue<long>())); // due today, then on the last day; not m6, m8, m10
        AssertListed(soon[0]!, s.M2, "1", "2", "HNMZT.SHJZ", "社会救助处", "in_progress", 0, "2025-06-15");
        Assert.Equal(0, DashboardKit.Int(soon[0]!["daysLeft"]));
        AssertListed(soon[1]!, s.M5, "1.1", "5", "HNMZT.SHSW", "社会事务处", "in_progress", 40, "2025-06-25");
        Assert.Equal(10, DashboardKit.Int(soon[1]!["daysLeft"]));
    }

    static void AssertListed(JsonNode item, long id, string issueCode, string code, string owner, string ownerName, string state, decimal progress, string dueDate)
    {
        Assert.Equal(id, item["id"]!.GetValue<long>());
        Assert.Equal(issueCode, DashboardKit.Text(item["issueCode"]));
        Assert.Equal(code, DashboardKit.Text(item["code"]));
        Assert.Equal("整治殡葬乱象", DashboardKit.Text(item["title"]));
        Assert.Equal(owner, DashboardKit.Text(item["ownerUnit"]));
        Assert.Equal(ownerName, DashboardKit.Text(item["ownerUnitName"]));
        Assert.Equal(state, DashboardKit.Text(item["state"]));
        Assert.Equal(progress, DashboardKit.Decimal(item["progress"]));
        Assert.Equal(dueDate, DashboardKit.Text(item["dueDate"]));
    }

    [Fact]
    public async Task Areas_take_in_the_measures_of_sub_issues_at_any_depth_and_ignore_cancelled_ones()
    {
        var s = await ScenarioAsync();
        var areas = (await _kit.DashboardAsync(s.Round))["areas"]!.AsArray();

        Assert.Equal([s.A, s.B, s.C, s.D], areas.Select(a => a!["issueId"]!.GetValue<long>()));
        Assert.Equal(["殡葬管理", "社会救助", "养老服务", "儿童福利"], areas.Select(a => DashboardKit.Text(a!["category"])));
        Assert.Equal(["in_progress", "long_term", "closed", "open"], areas.Select(a => DashboardKit.Text(a!["state"])));
        Assert.Equal(["1", "2", "3", "4"], areas.Select(a => DashboardKit.Text(a!["code"])));
        Assert.Equal("分层分类的社会救助体系不够健全", DashboardKit.Text(areas[1]!["title"]));

        // 1: m1–m4 on the issue, m5–m6 on 1.1, m7 on 1.1.1. Progress (0 + 0 + 100 + 40 + 0 + 20) / 6, not counting m4's 80%.
        AssertArea(areas[0]!, subIssues: 2, measures: 7, done: 1, cancelled: 1, overdue: 2, progress: 26.67m, completion: 16.67m);
        AssertArea(areas[1]!, subIssues: 0, measures: 3, done: 1, cancelled: 1, overdue: 0, progress: 50m, completion: 50m);
        AssertArea(areas[2]!, subIssues: 0, measures: 1, done: 1, cancelled: 0, overdue: 0, progress: 100m, completion: 100m);
        AssertArea(areas[3]!, subIssues: 0, measures: 0, done: 0, cancelled: 0, overdue: 0, progress: null, completion: null);
    }

    static void AssertArea(JsonNode area, int subIssues, int measures, int done, int cancelled, int overdue, decimal? progress, decimal? completion)
    {
        Assert.Equal(
            (subIssues, measures, done, cancelled, overdue, progress, completion),
            (DashboardKit.Int(area["subIssues"]), DashboardKit.Int(area["measures"]), DashboardKit.Int(area["done"]), DashboardKit.Int(area["cancelled"]),
                DashboardKit.Int(area["overdue"]), DashboardKit.Decimal(area["progress"]), DashboardKit.Decimal(area["completionRate"])));
    }

    [Fact]
    public async Task A_round_without_issues_has_every_state_at_zero_and_no_completion_rate()
    {
        var round = await _kit.Seed.RoundAsync();
        var dashboard = await _kit.DashboardAsync(round);

        Assert.All(dashboard["issuesByState"]!.AsObject(), p => Assert.Equal(0, DashboardKit.Int(p.Value)));
        Assert.Equal(5, dashboard["issuesByState"]!.AsObject().Count);
        Assert.All(dashboard["measuresByState"]!.AsObject(), p => Assert.Equal(0, DashboardKit.Int(p.Value)));
        Assert.Equal(4, dashboard["measuresByState"]!.AsObject().Count);
        Assert.Null(dashboard["completionRate"]);
        Assert.Equal(0, DashboardKit.Int(dashboard["overdue"]!["total"]));
        Assert.Empty(dashboard["overdue"]!["items"]!.AsArray());
        Assert.Empty(dashboard["dueSoon"]!["items"]!.AsArray());
        Assert.Empty(dashboard["areas"]!.AsArray());
        Assert.Equal("460000", DashboardKit.Text(dashboard["region"]));
    }

    [Fact]
    public async Task An_unknown_round_is_a_404_problem()
    {
        await _kit.Seed.RoundAsync(); // some other round exists
        await _kit.ShouldBeNotFoundAsync("NO-SUCH-ROUND");
        await _kit.ShouldBeNotFoundAsync("巡视'; DROP TABLE rounds; --");
    }

    [Fact]
    public async Task Without_a_key_it_is_401_and_without_the_read_scope_403()
    {
        var round = await _kit.Seed.RoundAsync();
        using (var anonymous = app.ClientWith(null))
        using (var response = await anonymous.GetAsync(DashboardKit.Url(round), TestContext.Current.CancellationToken))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        var pushOnly = await app.CreateClientAsync(Seed.Unique("push-only"), ["push"]);
        using (var pusher = app.ClientWith(pushOnly))
        using (var response = await pusher.GetAsync(DashboardKit.Url(round), TestContext.Current.CancellationToken))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        }

        var readOnly = await app.CreateClientAsync(Seed.Unique("reader"), ["read"]);
        using var reader = app.ClientWith(readOnly);
        await reader.GetJsonAsync(DashboardKit.Url(round));
    }
}
