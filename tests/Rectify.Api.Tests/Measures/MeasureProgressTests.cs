using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>POST /api/v1/measures/{id}/progress. Today is 2025-06-15 in Shanghai throughout (the clock is not moved here).</summary>
public sealed class MeasureProgressTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    Task<long> ProgressRowsAsync(long id) => app.ScalarAsync<long>("SELECT count(*) FROM measure_progress WHERE measure_id = @id", new { id });

    [Fact]
    public async Task A_progress_entry_is_created_and_moves_a_planned_measure_to_in_progress()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, _) = await _api.CreateAsync(issueId);

        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress",
            new { reportedOn = "2025-06-10", percent = 35.5m, note = "已完成14个县的殡葬乱象排查。" });
        var entry = await response.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/v1/measures/{id}", response.Headers.Location?.ToString());
        Assert.NotEqual(etag, response.ETag());
        Assert.True(entry["id"]!.GetValue<long>() > 0);
        Assert.Equal(id, entry["measureId"]!.GetValue<long>());
        Assert.Equal("2025-06-10", entry["reportedOn"]!.GetValue<string>());
        Assert.Equal(35.5m, entry["percent"]!.GetValue<decimal>());
        Assert.Equal("已完成14个县的殡葬乱象排查。", entry["note"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, entry["recordedBy"]!.GetValue<string>());
        Assert.Equal(RectifyApp.Start.UtcDateTime, entry["recordedAt"]!.GetValue<DateTime>().ToUniversalTime());

        var (measure, readEtag) = await _api.GetAsync(id);
        Assert.Equal(response.ETag(), readEtag);
        Assert.Equal("in_progress", measure["state"]!.GetValue<string>());
        Assert.Equal(35.5m, measure["progress"]!.GetValue<decimal>());
        Assert.Null(measure["completedOn"]);
        var listed = Assert.Single(measure["progressEntries"]!.AsArray());
        Assert.Equal(entry["id"]!.GetValue<long>(), listed!["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_zero_percent_entry_keeps_a_planned_measure_planned()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        await _api.AddProgressAsync(id, "2025-06-01", 0, "已部署，尚未开工。");
        var (measure, _) = await _api.GetAsync(id);
        Assert.Equal("planned", measure["state"]!.GetValue<string>());
        Assert.Equal(0m, measure["progress"]!.GetValue<decimal>());
        Assert.Single(measure["progressEntries"]!.AsArray());
    }

    [Fact]
    public async Task Reaching_100_percent_completes_the_measure_on_the_reported_date()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId, dueDate: "2025-06-05"); // overdue before it completes
        await _api.AddProgressAsync(id, "2025-05-20", 60);
        Assert.Equal("red", (await _api.GetAsync(id)).Body["trafficLight"]!.GetValue<string>());

        await _api.AddProgressAsync(id, "2025-06-12", 100, "全部完成。");
        var (measure, _) = await _api.GetAsync(id);
        Assert.Equal("done", measure["state"]!.GetValue<string>());
        Assert.Equal(100m, measure["progress"]!.GetValue<decimal>());
        Assert.Equal("2025-06-12", measure["completedOn"]!.GetValue<string>());
        Assert.False(measure["overdue"]!.GetValue<bool>());
        Assert.Equal("green", measure["trafficLight"]!.GetValue<string>());
        Assert.Equal(2, measure["progressEntries"]!.AsArray().Count);
    }

    [Fact]
    public async Task Progress_below_the_current_progress_is_unprocessable_and_writes_nothing()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        await _api.AddProgressAsync(id, "2025-06-01", 50);
        var (_, etag) = await _api.GetAsync(id);

        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-14", percent = 49.99m });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]!["percent"]);
        Assert.Contains("50%", problem["detail"]!.GetValue<string>());

        var (measure, after) = await _api.GetAsync(id);
        Assert.Equal(etag, after);
        Assert.Equal(50m, measure["progress"]!.GetValue<decimal>());
        Assert.Equal(1, await ProgressRowsAsync(id));

        // The same percent again is not going backwards.
        await _api.AddProgressAsync(id, "2025-06-14", 50, "本月无新进展。");
        Assert.Equal(2, await ProgressRowsAsync(id));
    }

    [Fact]
    public async Task A_report_dated_in_the_future_is_refused_naming_reportedOn_but_today_is_accepted()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);

        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-16", percent = 10 });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["reportedOn"]);
        Assert.Equal(0, await ProgressRowsAsync(id));

        var entry = await _api.AddProgressAsync(id, "2025-06-15", 10);
        Assert.Equal("2025-06-15", entry["reportedOn"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("100.01")]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("-0.01")]
    public async Task A_percent_outside_0_to_100_is_a_bad_request_naming_percent(string percent)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        using var response = await Client.SendRawAsync(HttpMethod.Post, $"/api/v1/measures/{id}/progress",
            $$"""{"reportedOn":"2025-06-10","percent":{{percent}}}""");
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.True(problem["errors"]!["percent"] is not null || problem["errors"]!["Percent"] is not null, problem.ToJsonString());
        Assert.Equal(0, await ProgressRowsAsync(id));
        Assert.Equal("planned", (await _api.GetAsync(id)).Body["state"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"reportedOn":"2025-06-10","percent":"50"}""", "percent")]
    [InlineData("""{"reportedOn":"2025-02-30","percent":50}""", "reportedOn")]
    [InlineData("""{"reportedOn":"yesterday","percent":50}""", "reportedOn")]
    [InlineData("""{"reportedOn":"2025-06-10","percent":50,"state":"done"}""", "state")]
    public async Task A_malformed_progress_body_is_a_bad_request_naming_the_field(string json, string field)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        using var response = await Client.SendRawAsync(HttpMethod.Post, $"/api/v1/measures/{id}/progress", json);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(0, await ProgressRowsAsync(id));
    }

    [Theory]
    [InlineData("done")]
    [InlineData("cancelled")]
    public async Task Progress_on_a_finished_measure_is_a_conflict(string state)
    {
        var (issueId, _) = await _api.IssueAsync();
        var id = await _api.MeasureInStateAsync(issueId, state);
        var (_, etag) = await _api.GetAsync(id);
        var journal = await _api.JournalRowsAsync(id);

        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-10", percent = 100 });
        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");

        Assert.Equal(0, await ProgressRowsAsync(id));
        Assert.Equal(etag, (await _api.GetAsync(id)).ETag);
        Assert.Equal(journal, await _api.JournalRowsAsync(id));
    }

    [Fact]
    public async Task Progress_on_an_unknown_measure_is_not_found()
    {
        using var response = await Client.PostJsonAsync("/api/v1/measures/987654321/progress", new { reportedOn = "2025-06-10", percent = 10 });
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task If_match_is_optional_but_checked_when_sent()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, _) = await _api.CreateAsync(issueId);

        using var current = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-01", percent = 10 }, ifMatch: etag);
        await current.ShouldBeAsync(HttpStatusCode.Created);
        var next = current.ETag();
        Assert.NotEqual(etag, next);

        using var stale = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-02", percent = 20 }, ifMatch: etag);
        await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal(1, await ProgressRowsAsync(id));
        Assert.Equal(next, (await _api.GetAsync(id)).ETag);

        using var without = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-03", percent = 30 });
        await without.ShouldBeAsync(HttpStatusCode.Created);

        using var star = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-04", percent = 40 }, ifMatch: "*");
        await star.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(3, await ProgressRowsAsync(id));
    }

    [Fact]
    public async Task An_idempotency_key_replay_returns_the_same_entry_and_writes_one_entry()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        var key = Guid.NewGuid().ToString();
        var body = new { reportedOn = "2025-06-10", percent = 40, note = "截至6月上旬完成40%。" };

        using var first = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", body, idempotencyKey: key);
        var entry = await first.ShouldBeAsync(HttpStatusCode.Created);
        using var second = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", body, idempotencyKey: key);
        var replayed = await second.ShouldBeAsync(HttpStatusCode.Created);

        Assert.True(JsonNode.DeepEquals(entry, replayed), $"{entry.ToJsonString()} <> {replayed.ToJsonString()}");
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(["true"], second.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await ProgressRowsAsync(id));
        Assert.Equal(1, await _api.JournalRowsAsync(id, "progress"));
        var (measure, etag) = await _api.GetAsync(id);
        Assert.Single(measure["progressEntries"]!.AsArray());
        // Both answers carry the measure's version after the entry, so that a retrying caller can go on to update it.
        Assert.Equal(etag, first.ETag());
        Assert.Equal(etag, second.ETag());

        // The same key with another body is refused; nothing is written.
        using var reused = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", body with { percent = 50 }, idempotencyKey: key);
        await reused.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(1, await ProgressRowsAsync(id));
    }

    [Fact]
    public async Task The_same_idempotency_key_on_another_measure_is_refused()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (a, _, _) = await _api.CreateAsync(issueId);
        var (b, _, _) = await _api.CreateAsync(issueId);
        var key = Guid.NewGuid().ToString();
        var body = new { reportedOn = "2025-06-10", percent = 40 };

        using var first = await Client.PostJsonAsync($"/api/v1/measures/{a}/progress", body, idempotencyKey: key);
        await first.ShouldBeAsync(HttpStatusCode.Created);
        using var other = await Client.PostJsonAsync($"/api/v1/measures/{b}/progress", body, idempotencyKey: key);
        await other.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(0, await ProgressRowsAsync(b));
    }
}
