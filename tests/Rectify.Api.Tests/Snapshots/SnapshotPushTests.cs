using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>PUT /api/v1/rounds/{round}/snapshots/{period}: the month-end push into the draft. Values here are for April and June (no publication in this class).</summary>
public sealed class SnapshotPushTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);

    [Fact]
    public async Task A_push_applies_progress_and_values_and_records_the_month_as_a_draft()
    {
        var round = await _kit.RoundAsync();
        var answer = await _kit.PushOkAsync(round, "2025-04", new
        {
            narrative = "4月，专班召开会议通报整改进展。",
            progress = new object[]
            {
                new { measureId = round.Measures[0], percent = 60m, note = "完成全省殡葬服务机构收费排查" },
                new { measureId = round.Measures[2], percent = 100m, reportedOn = "2025-04-28" },
            },
            values = new object[] { new { indicator = round.Indicator, unit = "460000", value = 120m, comment = "全省" } },
        });

        Assert.True(answer["changed"]!.GetValue<bool>());
        Assert.Equal(2, answer["progressApplied"]!.GetValue<int>());
        Assert.Equal(1, answer["valuesInserted"]!.GetValue<int>());
        var snapshot = answer["snapshot"]!;
        Assert.Equal(1, snapshot["revision"]!.GetValue<int>());
        Assert.Equal("draft", snapshot["status"]!.GetValue<string>());
        Assert.Equal("pushed", snapshot["origin"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, snapshot["createdBy"]!.GetValue<string>());
        Assert.Equal("4月，专班召开会议通报整改进展。", snapshot["narrative"]!.GetValue<string>());

        var content = snapshot["content"]!;
        Assert.Equal("2025-04-30", content["monthEnd"]!.GetValue<string>());
        Assert.Equal("460000", content["region"]!.GetValue<string>());
        Assert.Equal(new[] { "1", "2" }, content["issues"]!.AsArray().Select(i => i!["code"]!.GetValue<string>()));
        var first = SnapshotKit.Measure(snapshot, round.Measures[0]);
        Assert.Equal(60m, first["progress"]!.GetValue<decimal>());
        Assert.Equal("in_progress", first["state"]!.GetValue<string>());
        Assert.Equal("完成全省殡葬服务机构收费排查", first["latestNote"]!.GetValue<string>());
        Assert.Equal("done", SnapshotKit.Measure(snapshot, round.Measures[2])["state"]!.GetValue<string>());
        // As on 2025-05-01 (the month over): measure 1.2, due 2025-05-20, is neither overdue nor within the 10 due-soon days.
        var second = SnapshotKit.Measure(snapshot, round.Measures[1]);
        Assert.False(second["overdue"]!.GetValue<bool>());
        Assert.Equal("green", second["trafficLight"]!.GetValue<string>());

        var summary = content["summary"]!;
        Assert.Equal(3, summary["measures"]!.GetValue<int>());
        Assert.Equal(1, summary["measuresByState"]!["done"]!.GetValue<int>());
        Assert.Equal(0, summary["measuresByState"]!["cancelled"]!.GetValue<int>());
        Assert.Equal(1, summary["measuresCompletedThisMonth"]!.GetValue<int>());
        Assert.Equal(33.33m, SnapshotKit.Rate(snapshot));

        var indicator = Assert.Single(content["indicators"]!.AsArray())!;
        Assert.Equal(round.Indicator, indicator["code"]!.GetValue<string>());
        Assert.Equal("2025-04", indicator["period"]!.GetValue<string>());
        Assert.Equal(120m, indicator["value"]!.GetValue<decimal>());
        Assert.Equal(60m, indicator["targetProgress"]!.GetValue<decimal>());
        Assert.Equal(new[] { "1" }, indicator["issues"]!.AsArray().Select(i => i!.GetValue<string>()));

        // The live rows moved too: the measure, its progress entry, and the value.
        var measure = await _kit.Client.GetJsonAsync($"/api/v1/measures/{round.Measures[0]}");
        Assert.Equal(60m, measure["progress"]!.GetValue<decimal>());
        Assert.Equal("2025-04-30", measure["progressEntries"]![0]!["reportedOn"]!.GetValue<string>());
        Assert.Equal(120m, await app.ScalarAsync<decimal>(
            "SELECT value FROM data_values d JOIN indicators i ON i.id = d.indicator_id WHERE i.code = @code AND unit_code = '460000' AND period = '2025-04'",
            new { code = round.Indicator }));
    }

    [Fact]
    public async Task The_same_push_twice_changes_nothing_the_second_time_and_says_so()
    {
        var round = await _kit.RoundAsync();
        var body = new
        {
            narrative = "重复推送",
            progress = new object[] { new { measureId = round.Measures[0], percent = 40m, note = "推进中" } },
            values = new object[] { new { indicator = round.Indicator, unit = "460100", value = 7m } },
        };
        using var first = await _kit.PushAsync(round, "2025-04", body);
        var firstAnswer = await first.ShouldBeAsync(HttpStatusCode.OK);
        var journal = await app.ScalarAsync<long>("SELECT count(*) FROM journal");

        using var second = await _kit.PushAsync(round, "2025-04", body);
        var secondAnswer = await second.ShouldBeAsync(HttpStatusCode.OK);
        Assert.False(secondAnswer["changed"]!.GetValue<bool>());
        Assert.Equal(0, secondAnswer["progressApplied"]!.GetValue<int>());
        Assert.Equal(1, secondAnswer["progressUnchanged"]!.GetValue<int>());
        Assert.Equal((0, 0, 1), (secondAnswer["valuesInserted"]!.GetValue<int>(), secondAnswer["valuesUpdated"]!.GetValue<int>(),
            secondAnswer["valuesUnchanged"]!.GetValue<int>()));
        Assert.Equal(first.ETag(), second.ETag());
        Assert.Equal(firstAnswer["snapshot"]!.ToJsonString(), secondAnswer["snapshot"]!.ToJsonString());
        Assert.Equal(journal, await app.ScalarAsync<long>("SELECT count(*) FROM journal"));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM measure_progress WHERE measure_id = @id", new { id = round.Measures[0] }));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM snapshots s JOIN rounds r ON r.id = s.round_id WHERE r.code = @code", new { code = round.Code }));
    }

    [Fact]
    public async Task A_progress_line_already_reported_is_counted_unchanged_and_a_push_of_nothing_new_changes_nothing()
    {
        // A line is unchanged when the measure is at its percent and it brings no new note and no later date.
        var round = await _kit.RoundAsync();
        var measure = round.Measures[0];
        object Push(object line) => new { narrative = "4月进展", progress = new[] { line } };
        async Task<(JsonNode Answer, string ETag)> PushAsync(object body)
        {
            using var response = await _kit.PushAsync(round, "2025-04", body);
            return (await response.ShouldBeAsync(HttpStatusCode.OK), response.ETag());
        }
        static void Counts(JsonNode answer, bool changed, int applied, int unchanged)
            => Assert.Equal((changed, applied, unchanged),
                (answer["changed"]!.GetValue<bool>(), answer["progressApplied"]!.GetValue<int>(), answer["progressUnchanged"]!.GetValue<int>()));
        Task<long> EntriesAsync() => app.ScalarAsync<long>("SELECT count(*) FROM measure_progress WHERE measure_id = @measure", new { measure });

        var (first, etag) = await PushAsync(Push(new { measureId = measure, percent = 40m, note = "推进中" }));
        Counts(first, changed: true, applied: 1, unchanged: 0);
        var journal = await app.ScalarAsync<long>("SELECT count(*) FROM journal");

        // The same body again, the same line without its note, and with a date not after the one reported: nothing new.
        object[] repeats =
        [
            Push(new { measureId = measure, percent = 40m, note = "推进中" }),
            Push(new { measureId = measure, percent = 40m }),
            Push(new { measureId = measure, percent = 40m, reportedOn = "2025-04-30" }),
            Push(new { measureId = measure, percent = 40m, reportedOn = "2025-04-12", note = "推进中" }),
        ];
        foreach (var repeat in repeats)
        {
            var (answer, tag) = await PushAsync(repeat);
            Counts(answer, changed: false, applied: 0, unchanged: 1);
            Assert.Equal(etag, tag);
        }
        Assert.Equal(1L, await EntriesAsync());
        Assert.Equal(journal, await app.ScalarAsync<long>("SELECT count(*) FROM journal"));

        // Really new: a higher percent, then a new note at that percent.
        var (moved, movedTag) = await PushAsync(Push(new { measureId = measure, percent = 55m }));
        Counts(moved, changed: true, applied: 1, unchanged: 0);
        Assert.NotEqual(etag, movedTag);
        Assert.Equal(55m, SnapshotKit.Measure(moved["snapshot"]!, measure)["progress"]!.GetValue<decimal>());
        var (noted, _) = await PushAsync(Push(new { measureId = measure, percent = 55m, note = "完成收费公示" }));
        Counts(noted, changed: true, applied: 1, unchanged: 0);
        Assert.Equal("完成收费公示", SnapshotKit.Measure(noted["snapshot"]!, measure)["latestNote"]!.GetValue<string>());
        Assert.Equal(3L, await EntriesAsync());
    }

    [Fact]
    public async Task A_second_different_push_updates_the_same_draft_and_moves_its_etag()
    {
        var round = await _kit.RoundAsync();
        using var first = await _kit.PushAsync(round, "2025-04", new { narrative = "初稿" });
        await first.ShouldBeAsync(HttpStatusCode.OK);
        using var second = await _kit.PushAsync(round, "2025-04", new
        {
            narrative = "修改稿",
            progress = new object[] { new { measureId = round.Measures[0], percent = 0m } }, // already at 0: unchanged, no new entry
        });
        var answer = await second.ShouldBeAsync(HttpStatusCode.OK);
        Assert.True(answer["changed"]!.GetValue<bool>());
        Assert.Equal(1, answer["progressUnchanged"]!.GetValue<int>());
        Assert.NotEqual(first.ETag(), second.ETag());
        Assert.Equal(1, answer["snapshot"]!["revision"]!.GetValue<int>());
        Assert.Equal("修改稿", answer["snapshot"]!["narrative"]!.GetValue<string>());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM measure_progress WHERE measure_id = @id", new { id = round.Measures[0] }));
    }

    [Fact]
    public async Task Refused_values_are_named_in_the_callers_language()
    {
        var round = await _kit.RoundAsync();
        var chinese = app.Client();
        chinese.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        using var response = await chinese.PutJsonAsync(round.Url("2025-04"), new
        {
            values = new object[]
            {
                new { indicator = round.Indicator, unit = "999999", value = 2m },
                new { indicator = round.Indicator, unit = "460000", period = "2025-05", value = 2m },
            },
        }, ifMatch: null);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("未知单位“999999”。", problem["errors"]!["values[0].unit"]![0]!.GetValue<string>());
        Assert.StartsWith("2025-05 不包含 2025-04", problem["errors"]!["values[1].period"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_push_is_all_or_nothing()
    {
        var round = await _kit.RoundAsync();
        using var response = await _kit.PushAsync(round, "2025-04", new
        {
            progress = new object[] { new { measureId = round.Measures[0], percent = 50m } },
            values = new object[]
            {
                new { indicator = round.Indicator, unit = "460000", value = 1m },
                new { indicator = round.Indicator, unit = "999999", value = 2m },
            },
        });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("999999", problem["errors"]!["values[1].unit"]![0]!.GetValue<string>());
        Assert.Equal(0m, await app.ScalarAsync<decimal>("SELECT progress FROM measures WHERE id = @id", new { id = round.Measures[0] }));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM snapshots s JOIN rounds r ON r.id = s.round_id WHERE r.code = @code", new { code = round.Code }));

        // A later failure (progress going backwards, found while applying) rolls back what came before it.
        await _kit.PushOkAsync(round, "2025-04", new { progress = new object[] { new { measureId = round.Measures[1], percent = 50m } } });
        using var backwards = await _kit.PushAsync(round, "2025-04", new
        {
            narrative = "不应落地",
            progress = new object[]
            {
                new { measureId = round.Measures[0], percent = 30m },
                new { measureId = round.Measures[1], percent = 20m },
            },
        });
        await backwards.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(0m, await app.ScalarAsync<decimal>("SELECT progress FROM measures WHERE id = @id", new { id = round.Measures[0] }));
        var draft = await _kit.GetAsync(round, "2025-04");
        Assert.Null(draft["narrative"]);
    }

    [Theory]
    [InlineData("2025-13", "period")]
    [InlineData("2025-7", "period")]
    [InlineData("2025-Q2", "period")]
    [InlineData("2025-07", "period")] // has not begun
    public async Task A_bad_or_future_month_is_a_validation_problem(string period, string field)
    {
        var round = await _kit.RoundAsync();
        using var response = await _kit.PushAsync(round, period, new { narrative = "x" });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task Measures_of_another_round_and_duplicates_are_refused_by_position()
    {
        var round = await _kit.RoundAsync();
        var other = await _kit.RoundAsync();
        using var foreign = await _kit.PushAsync(round, "2025-06", new { progress = new object[] { new { measureId = other.Measures[0], percent = 10m } } });
        var problem = await foreign.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.NotNull(problem["errors"]!["progress[0].measureId"]);

        using var twice = await _kit.PushAsync(round, "2025-06", new
        {
            progress = new object[] { new { measureId = round.Measures[0], percent = 10m }, new { measureId = round.Measures[0], percent = 20m } },
        });
        problem = await twice.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["progress[1].measureId"]);

        using var late = await _kit.PushAsync(round, "2025-04", new { progress = new object[] { new { measureId = round.Measures[0], percent = 10m, reportedOn = "2025-05-02" } } });
        problem = await late.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["progress[0].reportedOn"]);
    }

    [Fact]
    public async Task Server_owned_fields_in_the_body_are_refused()
    {
        var round = await _kit.RoundAsync();
        using var response = await _kit.Client.SendRawAsync(HttpMethod.Put, round.Url("2025-06"), """{"narrative":"x","status":"published","revision":3}""");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM snapshots s JOIN rounds r ON r.id = s.round_id WHERE r.code = @code", new { code = round.Code }));
    }

    [Fact]
    public async Task Unknown_round_is_404_and_the_running_month_can_be_drafted()
    {
        using var response = await _kit.Client.PutJsonAsync("/api/v1/rounds/NO-SUCH-ROUND/snapshots/2025-06", new { narrative = "x" }, ifMatch: null);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);

        var round = await _kit.RoundAsync();
        var answer = await _kit.PushOkAsync(round, "2025-06", new { narrative = "6月（进行中）" });
        // The running month is read as of today (2025-06-15): 1.2, due 2025-05-20, is overdue.
        var overdue = SnapshotKit.Measure(answer["snapshot"]!, round.Measures[1]);
        Assert.True(overdue["overdue"]!.GetValue<bool>());
        Assert.Equal("red", overdue["trafficLight"]!.GetValue<string>());
        Assert.Equal(1, answer["snapshot"]!["content"]!["summary"]!["overdueMeasures"]!.GetValue<int>());
    }

    [Fact]
    public async Task Get_answers_304_to_a_matching_if_none_match_and_200_when_the_draft_moved()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-04", new { narrative = "一稿" });
        using var first = await _kit.Client.GetAsync(round.Url("2025-04"), TestContext.Current.CancellationToken);
        await first.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("no-cache", first.Headers.CacheControl!.ToString());

        using var again = new HttpRequestMessage(HttpMethod.Get, round.Url("2025-04"));
        again.Headers.TryAddWithoutValidation("If-None-Match", first.ETag());
        using var notModified = await _kit.Client.SendAsync(again, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(first.ETag(), notModified.ETag());

        await _kit.PushOkAsync(round, "2025-04", new { narrative = "二稿" });
        using var moved = new HttpRequestMessage(HttpMethod.Get, round.Url("2025-04"));
        moved.Headers.TryAddWithoutValidation("If-None-Match", first.ETag());
        using var changed = await _kit.Client.SendAsync(moved, TestContext.Current.CancellationToken);
        var body = await changed.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("二稿", body["narrative"]!.GetValue<string>());
    }
}
