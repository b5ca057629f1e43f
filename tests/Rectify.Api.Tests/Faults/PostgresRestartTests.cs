using System.Diagnostics;
using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// <c>pg_ctl restart -m fast</c> under the running service, on a cluster of this class's own: readers get 200s or
/// 503 problems with Retry-After (never a 500 or a hang) and are served again within seconds, without restarting
/// the service; a large push cut by the restart lands whole or not at all, and its replay lands it once.
/// </summary>
public sealed class PostgresRestartTests(PrivateClusterService fixture) : IClassFixture<PrivateClusterService>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    sealed record Answer(TimeSpan Started, TimeSpan Ended, int Status, string? Failure);

    [Fact(Timeout = 40_000)]
    public async Task A_restart_during_a_steady_read_load_answers_200_or_503_with_retry_after_and_reads_succeed_again_within_seconds()
    {
        using (var setup = fixture.App.Client())
        {
            await FaultApi.ReadyAsync(setup, TimeSpan.FromSeconds(20));
            await new FaultDatabase(fixture.Cluster.ConnectionString).UnitsAsync(Seed.Unique("RL"), 3);
        }

        string[] urls = ["/api/v1/rounds", "/api/v1/issues", "/api/v1/rounds?limit=5", "/api/v1/issues?limit=5"];
        await using var load = new ReadLoad(fixture.App, urls, urls.Length, TimeSpan.FromMilliseconds(20), RequestTimeout);

        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        var restartStarted = load.Now;
        await fixture.Cluster.RestartAsync(Ct);
        var restartEnded = load.Now;

        // Keep reading until every answer has been a 200 for two seconds, or give up 20 s after the restart.
        await load.WaitForRecoveryAsync(restartStarted, restartEnded, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(2));
        await load.StopAsync();

        load.AssertNoFailures();
        var recoveredAt = load.RecoveredAt(restartStarted);
        Assert.True(recoveredAt is not null, "Reads did not succeed again within 20 s of the restart: " + load.Summary());
        Assert.True(recoveredAt - restartEnded < TimeSpan.FromSeconds(15),
            $"Reads succeeded again only {ReadLoad.Seconds(recoveredAt!.Value - restartEnded)} after PostgreSQL was back: {load.Summary()}");
        var slowest = load.Answers.Where(a => a.Ended >= restartStarted && a.Started <= restartEnded).Max(a => a.Took);

        using var client = fixture.App.Client();
        await FaultApi.ReadyAsync(client, TimeSpan.FromSeconds(5));

        FaultApi.Figure($"PostgreSQL restart (pg_ctl restart -m fast took {ReadLoad.Seconds(restartEnded - restartStarted)}) under {urls.Length} " +
            $"concurrent " +
                        $"readers: {load.Summary()} (every 503 a problem with Retry-After; no 500, no hang); slowest answer during the restart " +
                        $"{ReadLoad.Seconds(slowest)}; recovery time {ReadLoad.Seconds(recoveredAt!.Value - restartStarted)} (from the restart's " +
                            $"start to the first " +
                        "200 after which every answer was 200).");
    }

    [Fact(Timeout = 45_000)]
    public async Task A_restart_in_the_middle_of_a_large_atomic_push_lands_it_whole_or_not_at_all_and_its_replay_lands_it_exactly_once()
    {
        var db = fixture.Database;
        using var client = fixture.App.Client(TimeSpan.FromSeconds(40));
        await FaultApi.ReadyAsync(client, TimeSpan.FromSeconds(20));
        var indicator = await FaultApi.IndicatorAsync(client);
        var keys = PushContent.Keys(await db.UnitsAsync(Seed.Unique("PR"), 1000), months: 100);
        var push = new PushContent(indicator, keys, offset: 1_000_000, "restart");
        // The first key already has a value, locked below: the push's merge waits on it, deep in its transaction.
        await FaultApi.PushAppliedAsync(client, new PushContent(indicator, [keys[0]], offset: 0, "before"));
        var key = Guid.NewGuid().ToString();

        HttpResponseMessage first;
        var clock = Stopwatch.StartNew();
        await using (await db.LockValueAsync(indicator, keys[0]))
        {
            using var request = push.Request(key);
            var sending = client.SendAsync(request, Ct);
            await db.WaitForServiceBlockedAsync(TimeSpan.FromSeconds(25),
                () => sending.IsCompleted ? $"the push already answered {sending.Result.StatusCode}" : "");
            await fixture.Cluster.RestartAsync(Ct);
            first = await sending;
        }
        var answeredIn = clock.Elapsed;

        string outcome;
        using (first)
        {
            var stored = await db.ValuesAsync(indicator);
            if (first.StatusCode == HttpStatusCode.OK)
            {
                // Retried after the restart and applied: all of it is there.
                var summary = await first.ShouldBeAsync(HttpStatusCode.OK);
                Assert.True(summary["applied"]!.GetValue<bool>());
                Assert.Equal(keys.Count, summary["received"]!.GetValue<long>());
                Assert.Equal(0, push.Lost(stored));
                outcome = "landed whole (200, retried after the restart)";
            }
            else
            {
                // Refused: told to retry, and nothing of it is there.
                await FaultApi.RefusedAsync(first);
                Assert.Equal((0m, "before"), Assert.Single(stored).Value);
                Assert.Equal(0, await db.IdempotencyKeysAsync(key));
                outcome = "fully absent (503 problem with Retry-After)";
            }
        }

        using var replayRequest = push.Request(key);
        using var replay = await client.SendAsync(replayRequest, Ct);
        var replayed = await replay.ShouldBeAsync(HttpStatusCode.OK);
        Assert.True(replayed["applied"]!.GetValue<bool>());
        // Answered from the idempotency record when the first attempt landed; applied now when it did not.
        Assert.Equal(first.StatusCode == HttpStatusCode.OK, replay.Headers.Contains("Idempotent-Replayed"));
        var after = await db.ValuesAsync(indicator);
        var lost = push.Lost(after);
        var duplicated = await db.PushJournalEntriesAsync(received: keys.Count) - 1; // this push, once
        Assert.Equal(0, lost);
        Assert.Equal(keys.Count, after.Count);
        Assert.Equal(0, duplicated);

        FaultApi.Figure($"PostgreSQL restart during a {keys.Count}-row atomic push (merge waiting on a row lock): the push {outcome} after " +
                        $"{answeredIn.TotalSeconds:0.0} s; the replay with the same Idempotency-Key answered 200" +
                        $"{(replay.Headers.Contains("Idempotent-Replayed") ? " (replayed)" : " (applied)")}; {after.Count} rows stored; rows lost " +
                            $"{lost}, duplicated {duplicated}.");
    }
}
