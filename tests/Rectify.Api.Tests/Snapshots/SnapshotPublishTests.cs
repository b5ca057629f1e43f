using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>
/// Publishing freezes a snapshot and locks the values it shows (its indicators, in its region and below, for its
/// period); corrections are revisions. Each test's round links an indicator of its own, so their locks never meet.
/// </summary>
public sealed class SnapshotPublishTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);

    [Fact]
    public async Task Publish_freezes_the_content_while_live_data_moves_on()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-05", new
        {
            narrative = "5月进展",
            progress = new object[] { new { measureId = round.Measures[0], percent = 50m } },
            values = new object[] { new { indicator = round.Indicator, unit = "460000", value = 150m } },
        });
        var published = await _kit.PublishOkAsync(round, "2025-05");
        Assert.Equal("published", published["status"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, published["publishedBy"]!.GetValue<string>());
        var frozen = published["content"]!.ToJsonString();

        // Live data moves on: more progress, a new measure, the measure renamed.
        await _kit.Client.PostJsonAsync($"/api/v1/measures/{round.Measures[0]}/progress", new { reportedOn = "2025-06-10", percent = 90m });
        await _kit.Indicators.Seed.MeasureAsync(round.IssueA, code: "1.9");

        using var response = await _kit.Client.GetAsync(round.Url("2025-05"), TestContext.Current.CancellationToken);
        var read = await response.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal(frozen, read["content"]!.ToJsonString());
        Assert.Equal(50m, SnapshotKit.Measure(read, round.Measures[0])["progress"]!.GetValue<decimal>());
        Assert.True(response.Headers.CacheControl is { Private: true, MaxAge.TotalSeconds: 300 }, response.Headers.CacheControl?.ToString());

        using var byRevision = await _kit.Client.GetAsync($"{round.Url("2025-05")}?revision=1", TestContext.Current.CancellationToken);
        await byRevision.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Contains("immutable", byRevision.Headers.CacheControl!.ToString());

        // The database itself refuses to change a published revision.
        var error = await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => app.ScalarAsync<int>(
            "UPDATE snapshots SET narrative = 'rewritten' WHERE status = 'published'; SELECT 1"));
        Assert.Equal("42501", error.SqlState);
    }

    [Fact]
    public async Task Values_of_a_published_month_are_locked_unless_a_revision_reason_is_sent()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-02", new { values = new object[] { new { indicator = round.Indicator, unit = "460100", value = 10m } } });
        await _kit.PublishOkAsync(round, "2025-02");

        using var push = await _kit.Client.PostJsonAsync("/api/v1/data-values/import", new[] { new { indicator = round.Indicator, unit = "460100", period = "2025-02", value = 11m } });
        var refused = await push.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains($"locked by the published snapshot {round.Code} 2025-02 (revision 1)", refused.ToJsonString());

        using var revised = await _kit.Client.PostJsonAsync("/api/v1/data-values/import?revisionReason=" + Uri.EscapeDataString("统计口径更正"),
            new[] { new { indicator = round.Indicator, unit = "460100", period = "2025-02", value = 11m } });
        await revised.ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_published_snapshot_locks_its_own_indicators_in_its_region_subtree_and_nothing_else()
    {
        var round = await _kit.RoundAsync(); // region 460000, round.Indicator linked to issue 1
        var unlinked = await _kit.Indicators.CreateCodeAsync(Indicators.IndicatorKit.Body(name: "未关联指标"));
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind, parent_code) VALUES ('450000', '广西壮族自治区', 'province', NULL), ('450100', '南宁市', 'city', '450000')
            ON CONFLICT DO NOTHING;
            SELECT 1;
            """);
        await _kit.PushOkAsync(round, "2024-10", new { values = new object[] { new { indicator = round.Indicator, unit = "460000", value = 100m } } });
        await _kit.PublishOkAsync(round, "2024-10");

        Task<HttpResponseMessage> ImportAsync(string indicator, string unit, string query = "")
            => _kit.Client.PostJsonAsync("/api/v1/data-values/import" + query, new[] { new { indicator, unit, period = "2024-10", value = 7m } });

        // An indicator no round links to, for a city of the province: open, no reason needed.
        using (var open = await ImportAsync(unlinked, "460100")) Assert.Equal(1, (await open.ShouldBeAsync(HttpStatusCode.OK))["inserted"]!.GetValue<long>());
        // The round's indicator outside its region: open too.
        using (var outside = await ImportAsync(round.Indicator, "450100")) Assert.Equal(1, (await outside.ShouldBeAsync(HttpStatusCode.OK))["inserted"]!.GetValue<long>());
        // The round's indicator in its region's subtree (a district under a city): locked, and the refusal names the snapshot.
        using (var locked = await ImportAsync(round.Indicator, "460105"))
        {
            var problem = await locked.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
            var error = Assert.Single(problem["summary"]!["errors"]!.AsArray())!;
            Assert.Equal("period", error["field"]!.GetValue<string>());
            Assert.Contains($"locked by the published snapshot {round.Code} 2024-10 (revision 1)", error["message"]!.GetValue<string>());
        }
        using (var revised = await ImportAsync(round.Indicator, "460105", "?revisionReason=" + Uri.EscapeDataString("区级数据补报")))
            await revised.ShouldBeAsync(HttpStatusCode.OK);

        // Another round's snapshot push is refused the same values, naming the snapshot that holds them.
        var other = await _kit.RoundAsync();
        using var push = await _kit.PushAsync(other, "2024-10", new { values = new object[] { new { indicator = round.Indicator, unit = "460106", value = 3m } } });
        var refused = await push.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains($"{round.Code} 2024-10 (revision 1)", refused["errors"]!["values[0].period"]![0]!.GetValue<string>());
        await _kit.PushOkAsync(other, "2024-10", new { values = new object[] { new { indicator = other.Indicator, unit = "460106", value = 3m } } });
    }

    [Fact]
    public async Task A_quarterly_value_is_locked_by_the_snapshot_of_the_quarters_last_month()
    {
        var round = await _kit.RoundAsync();
        var body = Indicators.IndicatorKit.Body(name: "季度走访次数", frequency: "quarterly");
        body["issues"] = new[] { round.IssueB };
        var quarterly = await _kit.Indicators.CreateCodeAsync(body);
        Task<HttpResponseMessage> ImportAsync(decimal value)
            => _kit.Client.PostJsonAsync("/api/v1/data-values/import", new[] { new { indicator = quarterly, unit = "460100", period = "2024-Q4", value } });

        await _kit.PushOkAsync(round, "2024-11", new { narrative = "11月" });
        await _kit.PublishOkAsync(round, "2024-11");
        // November shows the running quarter; its later months still complete it.
        using (var running = await ImportAsync(1m)) await running.ShouldBeAsync(HttpStatusCode.OK);

        await _kit.PushOkAsync(round, "2024-12", new { narrative = "12月" });
        await _kit.PublishOkAsync(round, "2024-12");
        using var closed = await ImportAsync(2m);
        var problem = await closed.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains($"2024-Q4 of this indicator and unit is locked by the published snapshot {round.Code} 2024-12 (revision 1)", problem.ToJsonString());
    }

    [Fact]
    public async Task A_correction_is_the_next_revision_with_its_reason_and_earlier_revisions_stay_readable()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-01", new { narrative = "原稿", values = new object[] { new { indicator = round.Indicator, unit = "460105", value = 5m } } });
        await _kit.PublishOkAsync(round, "2025-01");

        using var withoutReason = await _kit.PushAsync(round, "2025-01", new { narrative = "更正稿" });
        await withoutReason.ShouldBeProblemAsync(HttpStatusCode.Conflict);

        var correction = await _kit.PushOkAsync(round, "2025-01", new
        {
            narrative = "更正稿", revisionReason = "县级数据更正",
            values = new object[] { new { indicator = round.Indicator, unit = "460105", value = 6m } },
        });
        Assert.Equal(2, correction["snapshot"]!["revision"]!.GetValue<int>());
        Assert.Equal("draft", correction["snapshot"]!["status"]!.GetValue<string>());
        Assert.Equal("县级数据更正", correction["snapshot"]!["reason"]!.GetValue<string>());
        Assert.Equal(1, correction["valuesUpdated"]!.GetValue<int>());

        var second = await _kit.PublishOkAsync(round, "2025-01");
        Assert.Equal(2, second["revision"]!.GetValue<int>());
        Assert.Equal(RectifyApp.ClientName, second["createdBy"]!.GetValue<string>());

        var latest = await _kit.GetAsync(round, "2025-01");
        Assert.Equal(2, latest["revision"]!.GetValue<int>());
        Assert.Equal("更正稿", latest["narrative"]!.GetValue<string>());
        var first = await _kit.GetAsync(round, "2025-01", revision: 1);
        Assert.Equal("原稿", first["narrative"]!.GetValue<string>());
        Assert.Equal("published", first["status"]!.GetValue<string>());
        Assert.Null(first["reason"]);

        using var missing = await _kit.Client.GetAsync($"{round.Url("2025-01")}?revision=3", TestContext.Current.CancellationToken);
        await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        using var zero = await _kit.Client.GetAsync($"{round.Url("2025-01")}?revision=0", TestContext.Current.CancellationToken);
        Assert.NotNull((await zero.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation"))["errors"]!["revision"]);

        var list = await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round.Code}/snapshots");
        var item = Assert.Single(list["items"]!.AsArray())!;
        Assert.Equal(2, item["revision"]!.GetValue<int>());
        Assert.Equal(2, item["publishedRevision"]!.GetValue<int>());
    }

    [Fact]
    public async Task Months_are_published_in_order_and_only_once_over()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-03", new { narrative = "3月" });
        await _kit.PushOkAsync(round, "2025-04", new { narrative = "4月" });
        await _kit.PushOkAsync(round, "2025-06", new { narrative = "6月" });

        using var early = await _kit.Client.PostJsonAsync($"{round.Url("2025-04")}/publish", new { });
        var problem = await early.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("2025-03", problem["detail"]!.GetValue<string>());

        await _kit.PublishOkAsync(round, "2025-03");
        using (var bodiless = await _kit.Client.PostAsync($"{round.Url("2025-04")}/publish", null, TestContext.Current.CancellationToken))
            await bodiless.ShouldBeAsync(HttpStatusCode.OK); // the note is optional, and so is the body

        using var running = await _kit.Client.PostJsonAsync($"{round.Url("2025-06")}/publish", new { });
        await running.ShouldBeProblemAsync(HttpStatusCode.Conflict);

        using var again = await _kit.Client.PostJsonAsync($"{round.Url("2025-04")}/publish", new { });
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict);

        using var none = await _kit.Client.PostJsonAsync($"{round.Url("2025-02")}/publish", new { });
        await none.ShouldBeProblemAsync(HttpStatusCode.NotFound);

        var list = await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round.Code}/snapshots");
        Assert.Equal(new[] { "2025-06", "2025-04", "2025-03" }, list["items"]!.AsArray().Select(i => i!["period"]!.GetValue<string>()));
        Assert.Equal(new[] { "draft", "published", "published" }, list["items"]!.AsArray().Select(i => i!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Publish_checks_if_match_against_the_reviewed_draft()
    {
        var round = await _kit.RoundAsync();
        using var pushed = await _kit.PushAsync(round, "2024-12", new { narrative = "审阅稿" });
        await pushed.ShouldBeAsync(HttpStatusCode.OK);
        var reviewed = pushed.ETag();
        await _kit.PushOkAsync(round, "2024-12", new { narrative = "审阅后又改了" });

        using var stale = await _kit.Client.PostJsonAsync($"{round.Url("2024-12")}/publish", new { }, ifMatch: reviewed);
        await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);

        var current = (await _kit.Client.GetAsync(round.Url("2024-12"), TestContext.Current.CancellationToken)).ETag();
        using var fresh = await _kit.Client.PostJsonAsync($"{round.Url("2024-12")}/publish", new { }, ifMatch: current);
        var published = await fresh.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("审阅后又改了", published["narrative"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_diff_lists_what_changed_between_two_months()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2024-11", new
        {
            progress = new object[] { new { measureId = round.Measures[0], percent = 30m, reportedOn = "2024-11-10" } },
            values = new object[] { new { indicator = round.Indicator, unit = "460000", value = 100m } },
        });
        await _kit.PushOkAsync(round, "2025-06", new
        {
            progress = new object[]
            {
                new { measureId = round.Measures[0], percent = 100m, reportedOn = "2025-06-12" },
                new { measureId = round.Measures[2], percent = 20m, reportedOn = "2025-06-12" },
            },
            values = new object[] { new { indicator = round.Indicator, unit = "460000", value = 130m } },
        });
        var added = (await _kit.Indicators.Seed.MeasureAsync(round.IssueB, code: "2.2"))["id"]!.GetValue<long>();
        await _kit.PushOkAsync(round, "2025-06", new { narrative = "含新增措施" });

        var diff = await _kit.Client.GetJsonAsync($"{round.Url("2025-06")}/diff?against=2024-11");
        Assert.Equal("2024-11", diff["from"]!.GetValue<string>());
        Assert.Equal("2025-06", diff["to"]!.GetValue<string>());
        var completed = Assert.Single(diff["measuresCompleted"]!.AsArray())!;
        Assert.Equal(round.Measures[0], completed["id"]!.GetValue<long>());
        var changes = diff["measureStates"]!.AsArray().ToDictionary(c => c!["id"]!.GetValue<long>());
        Assert.Equal("done", changes[round.Measures[0]]!["to"]!.GetValue<string>());
        Assert.Equal(30m, changes[round.Measures[0]]!["progressFrom"]!.GetValue<decimal>());
        Assert.Equal("in_progress", changes[round.Measures[2]]!["to"]!.GetValue<string>());
        // 1.2 was due 2025-05-20: not overdue at the end of April, overdue in June.
        Assert.Contains(diff["newlyOverdue"]!.AsArray(), m => m!["id"]!.GetValue<long>() == round.Measures[1]);
        Assert.Equal(added, Assert.Single(diff["measuresAdded"]!.AsArray())!["id"]!.GetValue<long>());
        var indicator = Assert.Single(diff["indicators"]!.AsArray())!;
        Assert.Equal(100m, indicator["from"]!.GetValue<decimal>());
        Assert.Equal(130m, indicator["to"]!.GetValue<decimal>());
        Assert.Equal(30m, indicator["change"]!.GetValue<decimal>());

        using var noAgainst = await _kit.Client.GetAsync($"{round.Url("2025-06")}/diff", TestContext.Current.CancellationToken);
        await noAgainst.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        using var absent = await _kit.Client.GetAsync($"{round.Url("2025-06")}/diff?against=2025-01", TestContext.Current.CancellationToken);
        await absent.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }
}
