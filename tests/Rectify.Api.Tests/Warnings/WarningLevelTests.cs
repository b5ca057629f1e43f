using System.Net;
using System.Net.Http.Headers;
using Rectify.Api.Tests.Infrastructure;
using static Rectify.Api.Tests.Warnings.WarningKit;

namespace Rectify.Api.Tests.Warnings;

/// <summary>Warning levels under the fixed clock, on both sides of each threshold at Shanghai midnight, and the round's warnings list.</summary>
public sealed class WarningLevelTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly WarningKit _kit = new(app);

    [Fact]
    public async Task Levels_and_lights_change_at_Shanghai_midnight_on_both_sides_of_each_threshold()
    {
        var round = await _kit.Seed.RoundAsync();
        var day = _kit.NextMidnight();
        // Due dates seen from `day`: 21 days (none), 20 (notice), 11 (notice), 10 (yellow), 0 (yellow), -1 (red).
        var offsets = new[] { 21, 20, 11, 10, 0, -1 };
        var issue = await _kit.Seed.IssueAsync(round, dueDate: Date(day.AddDays(-1)));
        var issueId = issue["id"]!.GetValue<long>();
        var ids = new List<long>();
        foreach (var offset in offsets) ids.Add((await _kit.MeasureDueAsync(issueId, day.AddDays(offset)))["id"]!.GetValue<long>());

        async Task<(string? Level, string? Light, bool Overdue)[]> LevelsAsync()
        {
            var list = (await _kit.Client.GetJsonAsync($"/api/v1/measures?round={round}&limit=100"))["items"]!.AsArray();
            return ids.Select(id => list.Single(m => m!["id"]!.GetValue<long>() == id)!)
                .Select(m => (Text(m["warningLevel"]), Text(m["trafficLight"]), m["overdue"]!.GetValue<bool>())).ToArray();
        }

        // One second before midnight it is still the day before: every due date is one day further off.
        _kit.At(day, TimeSpan.FromSeconds(-1));
        Assert.Equal(new (string?, string?, bool)[]
        {
            (null, "green", false), (null, "green", false), ("notice", "green", false), ("notice", "green", false),
            ("yellow", "yellow", false), ("yellow", "yellow", false),
        }, await LevelsAsync());
        Assert.Equal("yellow", Text((await _kit.Client.GetJsonAsync($"/api/v1/issues/{issueId}"))["warningLevel"]));

        // At midnight in Shanghai (16:00 UTC) the day turns: each threshold is crossed by the item due on it.
        _kit.At(day, TimeSpan.Zero);
        Assert.Equal(new (string?, string?, bool)[]
        {
            (null, "green", false), ("notice", "green", false), ("notice", "green", false), ("yellow", "yellow", false),
            ("yellow", "yellow", false), ("red", "red", true),
        }, await LevelsAsync());
        var detail = await _kit.Client.GetJsonAsync($"/api/v1/issues/{issueId}");
        Assert.Equal("red", Text(detail["warningLevel"]));
        Assert.True(detail["overdue"]!.GetValue<bool>());
        Assert.Equal("red", Text(detail["measures"]!.AsArray().Single(m => m!["id"]!.GetValue<long>() == ids[^1])!["warningLevel"]));

        // A measure done is out of the warnings, whatever its due date.
        var done = ids[^1];
        using (var get = await _kit.Client.GetAsync($"/api/v1/measures/{done}", TestContext.Current.CancellationToken))
        {
            var measure = await get.ShouldBeAsync(HttpStatusCode.OK);
            using var update = await _kit.Client.PutJsonAsync($"/api/v1/measures/{done}", new
            {
                title = Text(measure["title"]), ownerUnit = Text(measure["ownerUnit"]), startDate = Text(measure["startDate"]),
                dueDate = Text(measure["dueDate"]), state = "done",
            }, get.Headers.ETag!.Tag);
            var after = await update.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Null(after["warningLevel"]);
            Assert.Equal("green", Text(after["trafficLight"]));
        }
    }

    [Fact]
    public async Task The_round_lists_its_warnings_by_level_and_owner_unit_with_escalation_filters_them_and_exports_them()
    {
        var round = await _kit.Seed.RoundAsync();
        var today = _kit.NextMidnight();
        _kit.At(today, TimeSpan.FromHours(9));
        var issue = await _kit.Seed.IssueAsync(round, dueDate: Date(today.AddDays(60)));
        var issueId = issue["id"]!.GetValue<long>();
        var red = (await _kit.MeasureDueAsync(issueId, today.AddDays(-3)))["id"]!.GetValue<long>();
        var yellow = (await _kit.MeasureDueAsync(issueId, today.AddDays(5), owner: "HNMZT.SHSW"))["id"]!.GetValue<long>();
        var notice = (await _kit.MeasureDueAsync(issueId, today.AddDays(15)))["id"]!.GetValue<long>();
        await _kit.MeasureDueAsync(issueId, today.AddDays(40)); // none

        var list = await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round}/warnings");
        Assert.Equal(Date(today), Text(list["asOf"]));
        Assert.Equal((1, 1, 1),
            (list["byLevel"]!["notice"]!.GetValue<int>(), list["byLevel"]!["yellow"]!.GetValue<int>(), list["byLevel"]!["red"]!.GetValue<int>()));
        var items = list["items"]!.AsArray();
        Assert.Equal([red, yellow, notice], items.Select(i => i!["id"]!.GetValue<long>()));
        // Default escalation: red to the responsible leader, yellow to the lead unit, notice to the owner unit.
        Assert.Equal([("responsible_leader", "厅党组书记、厅长"), ("lead_unit", "HNMZT.SHSW"), ("owner_unit", "HNMZT.SHJZ")],
            items.Select(i => (Text(i!["escalateTo"])!, Text(i["escalationTarget"])!)));
        Assert.Equal([-3, 5, 15], items.Select(i => i!["daysLeft"]!.GetValue<int>()));
        var byUnit = list["byOwnerUnit"]!.AsArray();
        Assert.Equal(["HNMZT.SHJZ", "HNMZT.SHSW"], byUnit.Select(u => Text(u!["unit"])!));
        Assert.Equal((1, 0, 1), (byUnit[0]!["notice"]!.GetValue<int>(), byUnit[0]!["yellow"]!.GetValue<int>(), byUnit[0]!["red"]!.GetValue<int>()));
        Assert.Equal("社会救助处", Text(byUnit[0]!["unitName"]));

        // Filters: on the list, and warning=… on the measures and issues lists.
        var onlyRed = await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round}/warnings?level=red");
        Assert.Equal([red], onlyRed["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()));
        var shsw = await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round}/warnings?ownerUnit=HNMZT.SHSW");
        Assert.Equal([yellow], shsw["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()));
        Assert.Equal([red],
            (await _kit.Client.GetJsonAsync($"/api/v1/measures?round={round}&warning=red"))["items"]!.AsArray()
            .Select(m => m!["id"]!.GetValue<long>()));
        Assert.Equal([notice],
            (await _kit.Client.GetJsonAsync($"/api/v1/measures?round={round}&warning=notice"))["items"]!.AsArray()
            .Select(m => m!["id"]!.GetValue<long>()));
        Assert.Empty((await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}&warning=notice"))["items"]!.AsArray());
        using (var bad = await _kit.Client.GetAsync($"/api/v1/measures?round={round}&warning=orange", TestContext.Current.CancellationToken))
            await bad.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        using (var missing = await _kit.Client.GetAsync("/api/v1/rounds/NO-SUCH-ROUND/warnings", TestContext.Current.CancellationToken))
            await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound);

        // The same items as CSV; an Accept that prefers CSV on the list is a 406 naming the export.
        using var csv = await _kit.Client.GetAsync($"/api/v1/rounds/{round}/warnings/export", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).TrimStart('\uFEFF')
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("kind,id,code,issueId,issueCode,title,ownerUnit,leadUnit,responsibleLeader,state,dueDate,daysLeft,level,since,escalateTo," +
            "escalationTarget", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith($"measure,{red},", lines[1]);
        Assert.Contains(",red,,responsible_leader,厅党组书记、厅长", lines[1]);
        using var wantsCsv = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/rounds/{round}/warnings");
        wantsCsv.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        using var refused = await _kit.Client.SendAsync(wantsCsv, TestContext.Current.CancellationToken);
        Assert.Contains($"/api/v1/rounds/{round}/warnings/export",
            (await refused.ShouldBeProblemAsync(HttpStatusCode.NotAcceptable))["detail"]!.GetValue<string>());
    }
}
