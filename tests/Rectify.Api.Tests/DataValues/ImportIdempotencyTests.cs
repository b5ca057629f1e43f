using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// A push sent twice with the same Idempotency-Key (a cron job that retried after a timeout) gets the first summary
/// back and writes nothing again; the key with another body or other options is a 422.
/// </summary>
public sealed class ImportIdempotencyTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    Task<long> KeysAsync(string key) => app.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys WHERE key = @key", new { key });

    [Fact]
    public async Task A_replay_returns_the_first_summary_and_writes_nothing_again()
    {
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-09,6.97,", $"{indicator},460100,2025-09,1.59,", $"{indicator},BAD,2025-09,1,"]);

        using var first = await _kit.PushCsvAsync(csv, "atomic=false", key);
        var firstText = await first.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        var summary = JsonNode.Parse(firstText)!;
        ImportKit.Counts(summary, received: 3, inserted: 2, rejected: 1);
        var stored = await _kit.ValuesAsync(indicator);

        // Meanwhile another push changes one of the values: the replay must not put the first value back.
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-09,7.00,"])));
        app.Clock.Advance(TimeSpan.FromMinutes(10));

        using var replay = await _kit.PushCsvAsync(csv, "atomic=false", key);
        var replayText = await replay.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(["true"], replay.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal("application/json", replay.Content.Headers.ContentType?.MediaType);
        Assert.Equal(firstText, replayText);
        Assert.Equal(ImportKit.ImportId(summary), ImportKit.ImportId(JsonNode.Parse(replayText)!));

        var after = await _kit.ValuesAsync(indicator);
        Assert.Equal([7.00m, 1.59m], after.Select(v => v.Value));
        Assert.Equal(stored[1].Xmin, after[1].Xmin);
        Assert.Equal(1L, await _kit.PushJournalCountAsync(ImportKit.ImportId(summary)));
        Assert.Equal(1L, await KeysAsync(key));
    }

    [Fact]
    public async Task A_json_replay_returns_the_first_summary()
    {
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString("N");
        object[] body = [new { indicator, unit = "460000", period = "2025-09", value = 18.6m, comment = "18.6万人" }];

        var first = await ImportKit.AppliedAsync(await _kit.PushJsonAsync(body, key: key));
        using var replayed = await _kit.PushJsonAsync(body, key: key);
        Assert.Equal(["true"], replayed.Headers.GetValues("Idempotent-Replayed"));
        var replay = await ImportKit.AppliedAsync(replayed);

        Assert.True(JsonNode.DeepEquals(first, replay), $"first: {first.ToJsonString()}\nreplay: {replay.ToJsonString()}");
        ImportKit.Counts(replay, received: 1, inserted: 1); // the first answer, not "1 unchanged"
        Assert.Equal(1L, await _kit.CountAsync(indicator));
        Assert.Equal(1L, await _kit.PushJournalCountAsync(ImportKit.ImportId(first)));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_refused()
    {
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-09,1,"]), key: key));
        var journal = await _kit.PushJournalCountAsync();

        using var other = await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-09,2,", "NO-SUCH-INDICATOR,460000,2025-09,3,"]), key: key);
        var problem = await other.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        // Every 422 of the push carries a summary (one schema for a generated client): here, of this body as checked.
        var summary = problem["summary"]!;
        Assert.False(summary["applied"]!.GetValue<bool>());
        Assert.Equal(2, summary["received"]!.GetValue<long>());
        Assert.Equal(1, summary["rejected"]!.GetValue<long>());
        Assert.Equal(0, summary["inserted"]!.GetValue<long>());

        // The same rows as JSON are another body too.
        using var json = await _kit.PushJsonAsync(new object[] { new { indicator, unit = "460000", period = "2025-09", value = 1 } }, key: key);
        await json.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");

        Assert.Equal(1m, Assert.Single(await _kit.ValuesAsync(indicator)).Value);
        Assert.Equal(journal, await _kit.PushJournalCountAsync());
    }

    [Theory]
    [InlineData("atomic=false")]
    [InlineData("strategy=create")]
    [InlineData("revisionReason=%E6%9B%B4%E6%AD%A3")]
    public async Task The_same_key_and_body_with_other_options_is_refused(string options)
    {
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-09,1,"]);
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, key: key));

        using var other = await _kit.PushCsvAsync(csv, options, key);
        await other.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(1L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task A_push_that_writes_nothing_does_not_use_up_its_key()
    {
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString();
        var bad = ImportKit.Csv([$"{indicator},460000,2025-09,abc,"]);
        await ImportKit.RefusedAsync(await _kit.PushCsvAsync(bad, key: key));
        // Not atomic, every row rejected: answered 200, nothing written, the key still free.
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(bad, "atomic=false", key)), received: 1, rejected: 1);
        Assert.Equal(0L, await KeysAsync(key));

        // The key then serves the corrected push.
        var fixedPush = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-09,12,"]), key: key));
        ImportKit.Counts(fixedPush, received: 1, inserted: 1);
        Assert.Equal(1L, await KeysAsync(key));
    }

    [Fact]
    public async Task A_dry_run_does_not_use_up_its_key()
    {
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-09,1,"]);
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "dryRun=true", key)), received: 1, inserted: 1);
        Assert.Equal(0L, await KeysAsync(key));
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task A_replay_after_the_period_was_locked_still_returns_the_first_summary()
    {
        // The first push was applied; a snapshot then locked its period. The retry of that same push is not a new
        // push: it gets the answer the first one got, not a refusal for a lock that came after it.
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString();
        var csv = ImportKit.Csv([$"{indicator},460000,2019-05,1,"]);
        var first = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, key: key));
        await _kit.PublishLockAsync(indicator, "2019-05");
        Assert.Equal([(2, "period")], ImportKit.Errors(await ImportKit.RefusedAsync(await _kit.PushCsvAsync(csv))));

        using var replayed = await _kit.PushCsvAsync(csv, key: key);
        Assert.Equal(["true"], replayed.Headers.GetValues("Idempotent-Replayed"));
        var replay = await ImportKit.AppliedAsync(replayed);
        Assert.Equal(ImportKit.ImportId(first), ImportKit.ImportId(replay));
    }

    [Fact]
    public async Task Concurrent_pushes_with_the_same_key_apply_once()
    {
        var indicator = await _kit.IndicatorAsync();
        var key = Guid.NewGuid().ToString();
        var csv = ImportKit.Csv(Enumerable.Range(1, 12).Select(m => $"{indicator},460000,2024-{m:D2},{m},"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _kit.PushCsvAsync(csv, key: key, bom: false)));
        var summaries = new List<JsonNode>();
        foreach (var response in responses) summaries.Add(await ImportKit.AppliedAsync(response));

        Assert.Single(summaries.Select(ImportKit.ImportId).Distinct());
        Assert.All(summaries, s => ImportKit.Counts(s, received: 12, inserted: 12));
        Assert.Equal(3, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
        Assert.Equal(12L, await _kit.CountAsync(indicator));
        Assert.Equal(1L, await _kit.PushJournalCountAsync(ImportKit.ImportId(summaries[0])));
    }
}
