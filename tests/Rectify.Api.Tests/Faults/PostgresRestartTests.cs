using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// <c>pg_ctl restart -m fast</c> under the running service, on a cluster of this class's own: readers get 200s or
/// 503 problems with Retry-After (never a 500 or a hang) and are served again within seconds, without restarting
/// the service; a large push cut by the restart lands whole or not at all, and its replay lands it once.
/// </summary>
public sealed class PostgresRestartTests(PostgresRestartTests.Fixture fixture) : IClassFixture<PostgresRestartTests.Fixture>
{
    /// <summary>The cluster of this class and the service on it, with the default resilience settings.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public PrivateCluster Cluster { get; } = new();

        public StandaloneApp App { get; private set; } = null!;

        public FaultDatabase Database { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            await Cluster.InitializeAsync();
            App = new StandaloneApp(Cluster.ConnectionString);
            Database = new FaultDatabase(Cluster.ConnectionString);
            _ = App.Server; // starts the service, which migrates the database
            App.ApiKey = await TestKeys.CreateAsync(Cluster.ConnectionString, CancellationToken.None);
        }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }

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

        var answers = new ConcurrentQueue<Answer>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        string[] urls = ["/api/v1/rounds", "/api/v1/issues", "/api/v1/rounds?limit=5", "/api/v1/issues?limit=5"];
        var readers = urls.Select(url => Task.Run(() => ReadAsync(url, clock, answers, stop.Token), CancellationToken.None)).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        var restartStarted = clock.Elapsed;
        await fixture.Cluster.RestartAsync(Ct);
        var restartEnded = clock.Elapsed;

        // Keep reading until every answer has been a 200 for two seconds, or give up 20 s after the restart.
        while (clock.Elapsed - restartEnded < TimeSpan.FromSeconds(20)
               && !(RecoveredAt(answers, restartStarted) is { } recovered && clock.Elapsed - recovered > TimeSpan.FromSeconds(2)))
            await Task.Delay(100, Ct);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        var all = answers.ToArray();
        var failures = all.Where(a => a.Failure is not null).ToArray();
        Assert.True(failures.Length == 0,
            $"{failures.Length} answers were neither 200 nor a 503 problem with Retry-After:\n" + string.Join('\n', failures.Take(10).Select(Describe)));
        var recoveredAt = RecoveredAt(answers, restartStarted);
        Assert.True(recoveredAt is not null, "Reads did not succeed again within 20 s of the restart: " + Summary(all));
        Assert.True(recoveredAt - restartEnded < TimeSpan.FromSeconds(15),
            $"Reads succeeded again only {Seconds(recoveredAt!.Value - restartEnded)} after PostgreSQL was back: {Summary(all)}");
        var slowest = all.Where(a => a.Ended >= restartStarted && a.Started <= restartEnded).Max(a => a.Ended - a.Started);

        using var client = fixture.App.Client();
        await FaultApi.ReadyAsync(client, TimeSpan.FromSeconds(5));

        FaultApi.Figure($"PostgreSQL restart (pg_ctl restart -m fast took {Seconds(restartEnded - restartStarted)}) under {urls.Length} concurrent " +
                        $"readers: {Summary(all)} (every 503 a problem with Retry-After; no 500, no hang); slowest answer during the restart " +
                        $"{Seconds(slowest)}; recovery time {Seconds(recoveredAt!.Value - restartStarted)} (from the restart's start to the first " +
                        "200 after which every answer was 200).");
    }

    /// <summary>
    /// The end of the first 200 among the answers that started after the last answer other than 200 (after the restart
    /// began): from then on, readers are served again. Null while the last answers are still refusals.
    /// </summary>
    static TimeSpan? RecoveredAt(IEnumerable<Answer> answers, TimeSpan restartStarted)
    {
        var list = answers.ToArray();
        var lastRefusal = list.Where(a => a.Status != 200 && a.Started >= restartStarted).Select(a => a.Started).DefaultIfEmpty(restartStarted).Max();
        var served = list.Where(a => a.Status == 200 && a.Started > lastRefusal).Select(a => a.Ended).ToArray();
        return served.Length == 0 ? null : served.Min();
    }

    async Task ReadAsync(string url, Stopwatch clock, ConcurrentQueue<Answer> answers, CancellationToken stop)
    {
        using var client = fixture.App.Client(RequestTimeout);
        while (!stop.IsCancellationRequested)
        {
            var started = clock.Elapsed;
            int status = 0;
            string? failure = null;
            try
            {
                using var response = await client.GetAsync(url, Ct);
                status = (int)response.StatusCode;
                var body = await response.Content.ReadAsStringAsync(Ct);
                if (status == 503)
                {
                    if (response.Headers.RetryAfter is null) failure = "503 without Retry-After: " + body;
                    else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !body.Contains("urn:rectify:problem:", StringComparison.Ordinal))
                        failure = "503 that is not a problem: " + body;
                }
                else if (status != 200)
                {
                    failure = $"{status}: {body}";
                }
            }
            catch (TaskCanceledException) when (!Ct.IsCancellationRequested)
            {
                failure = $"no answer within {RequestTimeout.TotalSeconds} s";
            }
            catch (HttpRequestException e)
            {
                failure = "request failed: " + e.Message;
            }
            answers.Enqueue(new Answer(started, clock.Elapsed, status, failure));
            await Task.Delay(20, CancellationToken.None);
        }
    }

    static string Describe(Answer a) => $"  [{Seconds(a.Started)} → {Seconds(a.Ended)}] {a.Failure}";

    static string Summary(Answer[] all)
        => "answers " + string.Join(", ", all.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()}×{g.Key}"));

    static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

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
            await db.WaitForServiceBlockedAsync(TimeSpan.FromSeconds(25), () => sending.IsCompleted ? $"the push already answered {sending.Result.StatusCode}" : "");
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
                        $"{(replay.Headers.Contains("Idempotent-Replayed") ? " (replayed)" : " (applied)")}; {after.Count} rows stored; rows lost {lost}, duplicated {duplicated}.");
    }
}
