using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// PostgreSQL stopped for seconds (<c>pg_ctl stop -m fast</c>, then started again) under the running service, on a cluster
/// of this class's own. Readers are refused fast once the database is known to be down — the circuit opens under load
/// and its 503s come within milliseconds, not after seconds of retries — and are served again soon after it is back. A
/// long push cut by the outage is retried within its time budget, waiting out the circuit, and lands whole.
/// </summary>
public sealed class DatabaseStopTests(PrivateClusterService fixture) : IClassFixture<PrivateClusterService>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly string[] Urls = ["/api/v1/rounds", "/api/v1/issues", "/api/v1/rounds?limit=5", "/api/v1/issues?limit=5"];

    static string Ms(TimeSpan t) => ReadLoad.Milliseconds(t);

    static string S(TimeSpan t) => ReadLoad.Seconds(t);

    [Fact(Timeout = 60_000)]
    public async Task With_the_database_stopped_under_32_readers_the_circuit_opens_refusals_come_fast_and_reads_recover_once_it_is_back()
    {
        using (var setup = fixture.App.Client())
        {
            await FaultApi.ReadyAsync(setup, TimeSpan.FromSeconds(20));
            await fixture.Database.UnitsAsync(Seed.Unique("DS"), 3);
        }
        await using var load = new ReadLoad(fixture.App, Urls, readers: 32, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        using var openings = new CircuitOpenings(fixture.App, () => load.Now);

        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        var stopping = load.Now;
        await fixture.Cluster.StopAsync(Ct);
        var stopped = load.Now;
        await Task.Delay(TimeSpan.FromSeconds(5) - (stopped - stopping), Ct);
        var starting = load.Now;
        await fixture.Cluster.StartAsync(Ct);
        var started = load.Now;

        await load.WaitForRecoveryAsync(stopping, started, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(2));
        await load.StopAsync();

        // Every answer a 200 or a 503 problem with Retry-After, never a 500 or a hang.
        load.AssertNoFailures();
        var answers = load.Answers;
        var refusals = answers.Where(a => a.Status == 503).ToArray();
        Assert.NotEmpty(refusals);

        // The circuit opened while the database was down, and from then on refusals came within milliseconds.
        var opened = openings.Times.Where(t => t >= stopping && t <= starting).Order().ToArray();
        Assert.True(opened.Length > 0,
            $"The circuit did not open while PostgreSQL was down ({S(stopping)}–{S(starting)}); {load.Summary()}, " +
            $"median refusal {Ms(ReadLoad.Percentile(refusals.Select(a => a.Took).ToArray(), 0.5))}.");
        var afterOpen = refusals.Where(a => a.Started >= opened[0] && a.Ended <= starting).Select(a => a.Took).ToArray();
        Assert.True(afterOpen.Length >= 32, $"Only {afterOpen.Length} refusals after the circuit opened at {S(opened[0])}.");
        var (median, p95, slowest) = (ReadLoad.Percentile(afterOpen, 0.5), ReadLoad.Percentile(afterOpen, 0.95), afterOpen.Max());
        Assert.True(median < TimeSpan.FromMilliseconds(150) && p95 < TimeSpan.FromMilliseconds(500),
            $"Refusals after the circuit opened: median {Ms(median)}, p95 {Ms(p95)} (expected < 150 ms and < 500 ms).");
        var beforeOpen = refusals.Where(a => a.Started < opened[0]).Select(a => a.Took).ToArray();

        // Served again soon after PostgreSQL is back: the circuit's trial went through and closed it.
        var recoveredAt = load.RecoveredAt(stopping);
        Assert.True(recoveredAt is not null, $"Reads did not succeed again within 20 s of PostgreSQL's start: {load.Summary()}");
        Assert.True(recoveredAt!.Value - started < TimeSpan.FromSeconds(8),
            $"Reads succeeded again only {S(recoveredAt.Value - started)} after PostgreSQL was back: {load.Summary()}");
        using (var client = fixture.App.Client())
            await FaultApi.ReadyAsync(client, TimeSpan.FromSeconds(5));

        FaultApi.Figure($"PostgreSQL stopped for {S(starting - stopping)} (pg_ctl stop took {S(stopped - stopping)}, " +
                        $"start {S(started - starting)}) " +
                        $"under {load.Readers} readers: {load.Summary()}, no 500; the circuit opened {S(opened[0] - stopping)} after the stop " +
                        $"({opened.Length}× during the outage); {beforeOpen.Length} refusals before it opened: median " +
                            $"{Ms(Percentile(beforeOpen, 0.5))}, " +
                        $"max {Ms(beforeOpen.DefaultIfEmpty().Max())}; {afterOpen.Length} after: median {Ms(median)}, p95 {Ms(p95)}, max " +
                            $"{Ms(slowest)}; " +
                        $"reads served again {S(recoveredAt.Value - started)} after PostgreSQL was back.");
    }

    static TimeSpan Percentile(TimeSpan[] values, double p) => values.Length == 0 ? TimeSpan.Zero : ReadLoad.Percentile(values, p);

    [Fact(Timeout = 120_000)]
    public async Task A_3_s_outage_in_the_middle_of_a_large_push_is_retried_within_the_budget_and_the_push_lands_whole()
    {
        var db = fixture.Database;
        using var client = fixture.App.Client(TimeSpan.FromSeconds(90));
        await FaultApi.ReadyAsync(client, TimeSpan.FromSeconds(20));
        var indicator = await FaultApi.IndicatorAsync(client);
        var keys = PushContent.Keys(await db.UnitsAsync(Seed.Unique("DP"), 1000), months: 100);
        var push = new PushContent(indicator, keys, offset: 1_000_000, "outage");

        HttpResponseMessage answer;
        TimeSpan blocked, stopping, stopped, starting, started, answered;
        string[] opened;
        // Other callers read meanwhile, so that the circuit opens during the outage: the push must wait it out, not give up on it.
        await using (var load = new ReadLoad(fixture.App, Urls, readers: 8, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10)))
        using (var openings = new CircuitOpenings(fixture.App, () => load.Now))
        {
            // The test holds the indicator's row: the push's merge, inserting values that refer to it, waits there, deep in its transaction.
            await using (await db.LockAsync("SELECT 1 FROM indicators WHERE code = @indicator FOR UPDATE", new { indicator }))
            {
                using var request = push.Request(idempotencyKey: null);
                var sending = client.SendAsync(request, Ct);
                await db.WaitForServiceBlockedAsync(TimeSpan.FromSeconds(60),
                    () => sending.IsCompleted ? $"the push already answered {sending.Result.StatusCode}" : "");
                blocked = load.Now;
                stopping = load.Now;
                await fixture.Cluster.StopAsync(Ct);
                stopped = load.Now;
                await Task.Delay(TimeSpan.FromSeconds(3) - (stopped - stopping), Ct);
                starting = load.Now;
                await fixture.Cluster.StartAsync(Ct);
                started = load.Now;
                answer = await sending;
                answered = load.Now;
            }
            await load.StopAsync();
            load.AssertNoFailures();
            opened = openings.Times.Where(t => t >= stopping && t <= answered).Select(t => S(t - stopping)).ToArray();
        }

        using (answer)
        {
            var summary = await answer.ShouldBeAsync(HttpStatusCode.OK);
            Assert.True(summary["applied"]!.GetValue<bool>());
            Assert.Equal(keys.Count, summary["received"]!.GetValue<long>());
            Assert.Equal(keys.Count, summary["inserted"]!.GetValue<long>());
            Assert.Equal(0, summary["updated"]!.GetValue<long>());
        }
        var stored = await db.ValuesAsync(indicator);
        Assert.Equal(keys.Count, stored.Count);
        Assert.Equal(0, push.Lost(stored));
        Assert.Equal(1, await db.PushJournalEntriesAsync(received: keys.Count));

        FaultApi.Figure($"{keys.Count}-row push, PostgreSQL stopped for {S(starting - stopping)} while its merge waited on a row lock " +
                        $"({S(blocked)} after it was sent; stop took {S(stopped - stopping)}, start {S(started - starting)}): answered 200 " +
                        $"{S(answered - started)} after PostgreSQL was back ({S(answered - stopping)} after the stop), {keys.Count} inserted, " +
                        $"{stored.Count} rows stored, journaled once; the circuit opened meanwhile at " +
                            $"{(opened.Length == 0 ? "no time" : string.Join(", ", opened))} " +
                        "after the stop (8 readers), and the push waited it out.");
    }
}
