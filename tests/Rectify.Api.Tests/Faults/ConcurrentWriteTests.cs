using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Measures;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// Twenty pushes at once over overlapping keys, each with values of its own, and concurrent updates of one measure
/// with the same If-Match: no 500 (deadlocks and serialization failures are retried, a 503 with Retry-After is the
/// only other refusal), exactly one update wins and the others are 412, and the stored values are what applying the
/// pushes one after the other, in the order they committed, gives — never a mix within a push.
/// </summary>
public sealed class ConcurrentWriteTests(ConcurrentWriteTests.App app) : IClassFixture<ConcurrentWriteTests.App>
{
    /// <summary>The service with rate limits out of the way: twenty pushes at once are the point here.</summary>
    public sealed class App(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Rectify:Access:RequestsPerMinute", "100000");
            builder.UseSetting("Rectify:Access:PushesPerMinute", "10000");
        }
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const int Pushes = 20;
    const int Updates = 10;

    [Fact(Timeout = 45_000)]
    public async Task Twenty_concurrent_pushes_and_concurrent_updates_end_in_some_serial_order_with_no_500_and_one_update_winning()
    {
        var db = new FaultDatabase(app.ConnectionString);
        using var client = app.Client();
        var indicator = await FaultApi.IndicatorAsync(client);
        var keys = PushContent.Keys(await db.UnitsAsync(Seed.Unique("CW"), 200), months: 20); // 4,000 keys
        // Push p writes keys [100p, 100p + 2000): each key is in up to 20 pushes, each push overlaps all the others.
        var pushes = Enumerable.Range(0, Pushes)
            .Select(p => new PushContent(indicator, keys.GetRange(p * 100, 2000), offset: (p + 1) * 1_000_000L, $"P{p:D2}"))
            .ToArray();

        var measures = new MeasureApi(app);
        var (issueId, _) = await measures.IssueAsync();
        var (measureId, etag, measure) = await measures.CreateAsync(issueId);

        var pushing = pushes.Select((push, p) => Task.Run(async () =>
        {
            using var request = push.Request($"concurrent-{Guid.NewGuid()}");
            var response = await client.SendAsync(request, Ct);
            return (Push: p, Response: response);
        }, Ct)).ToArray();
        var updating = Enumerable.Range(0, Updates).Select(u => Task.Run(async () =>
        {
            var body = MeasureApi.UpdateBody(measure, "in_progress");
            body["title"] = $"并发修改 {u}";
            var response = await client.PutJsonAsync($"/api/v1/measures/{measureId}", body, etag);
            return (Update: u, Response: response);
        }, Ct)).ToArray();
        await Task.WhenAll(pushing.Cast<Task>().Concat(updating));

        // Pushes: applied (200) or refused cleanly (503 + Retry-After), nothing else.
        var applied = new Dictionary<string, (int Push, JsonNode Summary)>();
        var refused = 0;
        foreach (var (p, response) in pushing.Select(t => t.Result))
        {
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    await FaultApi.RefusedAsync(response);
                    refused++;
                    continue;
                }
                var summary = await response.ShouldBeAsync(HttpStatusCode.OK);
                Assert.True(summary["applied"]!.GetValue<bool>());
                applied[summary["importId"]!.GetValue<string>()] = (p, summary);
            }
        }
        Assert.NotEmpty(applied);

        // Updates: exactly one wins, every other one is told its If-Match is stale.
        var statuses = new List<HttpStatusCode>();
        var winner = -1;
        foreach (var (u, response) in updating.Select(t => t.Result))
        {
            using (response)
            {
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.OK) winner = u;
                else await response.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
            }
        }
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        var (final, finalEtag) = await measures.GetAsync(measureId);
        Assert.Equal($"并发修改 {winner}", final["title"]!.GetValue<string>());
        Assert.Equal("\"2\"", finalEtag);

        // The journal records each applied push in its own transaction, under the push lock: its order is the commit order.
        await using var connection = await db.OpenAsync(Ct);
        var order = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT entity_id FROM journal WHERE entity = 'data-values' AND action = 'import' ORDER BY id", cancellationToken: Ct))).AsList();
        Assert.Equal(applied.Keys.Order(), order.Order());

        // Replaying the pushes in that order gives each one's exact counts and, at the end, exactly the stored values.
        var expected = new Dictionary<(string Unit, string Period), (decimal Value, string? Comment)>();
        foreach (var importId in order)
        {
            var (p, summary) = applied[importId];
            var rows = pushes[p].Rows;
            var inserted = rows.Keys.Count(k => !expected.ContainsKey(k));
            ImportCounts(summary, received: rows.Count, inserted: inserted, updated: rows.Count - inserted);
            foreach (var (key, value) in rows) expected[key] = value;
        }
        var stored = await db.ValuesAsync(indicator);
        var lost = expected.LongCount(e => !stored.TryGetValue(e.Key, out var s) || s != e.Value);
        var unexpected = stored.Keys.LongCount(k => !expected.ContainsKey(k));
        Assert.Equal(0, lost);
        Assert.Equal(0, unexpected);
        var duplicated = order.Count - applied.Count;

        FaultApi.Figure($"{Pushes} concurrent pushes of 2,000 overlapping keys: {applied.Count} applied, {refused} refused with 503; commit order " +
                        $"{string.Join(' ', order.Select(i => pushes[applied[i].Push].Tag))}; stored values equal that serial order " +
                        $"({stored.Count} keys); {Updates} concurrent updates with one If-Match: 1×200, " +
                            $"{statuses.Count(s => s == HttpStatusCode.PreconditionFailed)}×412; " +
                        $"rows lost {lost}, duplicated {duplicated}.");
    }

    static void ImportCounts(JsonNode summary, long received, long inserted, long updated)
    {
        long[] expected = [received, inserted, updated, 0, 0, 0];
        var actual = new[] { "received", "inserted", "updated", "unchanged", "deleted", "rejected" }.Select(n => summary[n]!.GetValue<long>())
            .ToArray();
        Assert.True(expected.SequenceEqual(actual),
            $"Expected received/inserted/updated/unchanged/deleted/rejected {string.Join('/', expected)} but got {string.Join('/', actual)}");
    }
}
