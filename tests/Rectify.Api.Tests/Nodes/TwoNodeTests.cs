using System.Net;
using System.Net.Http.Headers;
using Rectify.Api.Tests.Faults;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Nodes;

/// <summary>
/// Two API processes on their own loopback ports over one database, as two nodes behind a load balancer: nothing that
/// one node keeps in memory is the only copy. The month-end job runs on both and drafts once; an Idempotency-Key and an
/// ETag from one node hold on the other; pushes sent through both at once stay atomic and their counts exact.
/// </summary>
public sealed class TwoNodeTests(TestCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task Two_nodes_over_one_database_share_jobs_idempotency_etags_and_push_atomicity()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var db = new FaultDatabase(connectionString);
        var apiKey = await TestKeys.CreateAsync(connectionString, Ct);
        var units = await db.UnitsAsync(Seed.Unique("NODE"), 50);
        // A round under rectification before either node starts: both find the month just ended due at start-up.
        var round = Seed.Unique("R");
        await db.ScalarAsync<int>("""
            INSERT INTO rounds (code, name, inspected_unit_code, inspection_body, inspection_start, inspection_end, state)
            VALUES (@round, '两节点测试轮次', '460000', '省委第一巡视组', DATE '2020-01-01', DATE '2020-02-01', 'rectifying');
            SELECT 1;
            """, new { round });
        var month = PreviousMonthInShanghai();
        // Both nodes run the month-end job, due at once and checked every 200 ms; the drafting is logged.
        var settings = ApiProcessFaultTests.Settings(connectionString,
            ("Rectify__Snapshots__MonthEndDrafts", "true"), ("Rectify__Snapshots__DraftAfter", "00:00:00"),
            ("Rectify__Snapshots__CheckInterval", "00:00:00.2"), ("Logging__LogLevel__Rectify.Api.Features.Snapshots.MonthEndDrafts", "Information"));

        var starting = new[] { ApiProcess.StartAsync(settings, Ct), ApiProcess.StartAsync(settings, Ct) };
        await using var a = await starting[0];
        await using var b = await starting[1];
        a.ApiKey = b.ApiKey = apiKey;
        using var clientA = a.Client();
        using var clientB = b.Client();
        await FaultApi.ReadyAsync(clientA, TimeSpan.FromSeconds(30));
        await FaultApi.ReadyAsync(clientB, TimeSpan.FromSeconds(30));

        // 1. The month-end job: one draft of the month, made by one node, however often both look.
        const string Drafts = "SELECT count(*) FROM snapshots s JOIN rounds r ON r.id = s.round_id WHERE r.code = @round AND s.period = @month";
        await FaultDatabase.WaitUntilAsync(async () => await db.ScalarAsync<long>(Drafts, new { round, month }) > 0, TimeSpan.FromSeconds(20),
            () => $"a draft of {month}:\nA: {a.Output}\nB: {b.Output}");
        await Task.Delay(TimeSpan.FromSeconds(1), Ct); // five more checks on each node
        Assert.Equal(1, await db.ScalarAsync<long>(Drafts, new { round, month }));
        var drafters = new[] { a, b }.Count(node => node.Output.Contains($"Month-end drafts for {month}: {round}", StringComparison.Ordinal));
        Assert.Equal(1, drafters);

        // 2. An ETag from A: B answers 304 to it, refuses a stale one with 412 and publishes with it.
        var url = $"/api/v1/rounds/{round}/snapshots/{month}";
        using var fromA = await clientA.GetAsync(url, Ct);
        Assert.Equal(HttpStatusCode.OK, fromA.StatusCode);
        var etag = fromA.Headers.ETag ?? throw new InvalidOperationException("No ETag.");
        using (var conditional = new HttpRequestMessage(HttpMethod.Get, url))
        {
            conditional.Headers.IfNoneMatch.Add(etag);
            using var notModified = await clientB.SendAsync(conditional, Ct);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }
        using (var stale = await clientB.PostJsonAsync($"{url}/publish", new { note = "过期" }, ifMatch: "\"stale\""))
            await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        using (var publish = await clientB.PostJsonAsync($"{url}/publish", new { note = "专班会议审定" }, ifMatch: etag.Tag))
            await publish.ShouldBeAsync(HttpStatusCode.OK);

        // 3. A push sent to A with an Idempotency-Key, retried against B: B returns A's answer and writes nothing.
        var indicator = await FaultApi.IndicatorAsync(clientA);
        var keys = PushContent.Keys(units, months: 4);
        var first = new PushContent(indicator, keys, offset: 0, "first");
        var idempotencyKey = Guid.NewGuid().ToString();
        var answer = await FaultApi.PushAppliedAsync(clientA, first, idempotencyKey);
        using (var retry = first.Request(idempotencyKey))
        using (var replayed = await clientB.SendAsync(retry, Ct))
        {
            var again = await replayed.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal("true", Assert.Single(replayed.Headers.GetValues("Idempotent-Replayed")));
            Assert.Equal(answer.ToJsonString(), again.ToJsonString());
        }
        Assert.Equal(1, await db.PushJournalEntriesAsync());

        // 4. Pushes through both nodes at once over the same keys: each lands whole (the values are one push's, never a
        // mix) and the counts add up exactly.
        var pushes = Enumerable.Range(1, 8).Select(i => new PushContent(indicator, keys, offset: 1000 * i, $"push-{i}")).ToArray();
        var summaries = await Task.WhenAll(pushes.Select((push, i) => FaultApi.PushAppliedAsync(i % 2 == 0 ? clientA : clientB, push)));
        var stored = await db.ValuesAsync(indicator);
        Assert.Equal(keys.Count, stored.Count);
        Assert.Single(pushes, push => push.Lost(stored) == 0);
        Assert.All(summaries, s => Assert.Equal(keys.Count, s["received"]!.GetValue<long>()));
        Assert.Equal(0, summaries.Sum(s => s["inserted"]!.GetValue<long>()));
        Assert.Equal(pushes.Length * keys.Count, summaries.Sum(s => s["updated"]!.GetValue<long>()));
        Assert.Equal(1 + pushes.Length, await db.PushJournalEntriesAsync());
    }

    static string PreviousMonthInShanghai()
    {
        var today = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai"));
        return today.AddMonths(-1).ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
    }
}
