using System.Diagnostics;
using System.Net;
using Rectify.Api.Tests.Faults;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Health;

/// <summary>
/// SIGTERM to the service process in the middle of a push (held at its merge by a lock of the test): new connections
/// are refused at once; the push finishes when it can within the grace period, and is rolled back, with nothing of
/// it left, when it cannot.
/// </summary>
public sealed class GracefulShutdownTests(TestCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed record Setup(ApiProcess Api, FaultDatabase Db, HttpClient Client, string Indicator, PushContent Push, (string Unit, string Period) Locked);

    async Task<Setup> StartAsync(string gracePeriod)
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var db = new FaultDatabase(connectionString);
        var apiKey = await TestKeys.CreateAsync(connectionString, Ct);
        var keys = PushContent.Keys(await db.UnitsAsync(Seed.Unique("GS"), 100), months: 100);
        var api = await ApiProcess.StartAsync(ApiProcessFaultTests.Settings(connectionString, ("Rectify__Http__ShutdownGracePeriod", gracePeriod)),
            Ct);
        api.ApiKey = apiKey;
        var client = api.Client();
        var indicator = await FaultApi.IndicatorAsync(client);
        await FaultApi.PushAppliedAsync(client, new PushContent(indicator, [keys[0]], offset: 0, "before"));
        return new Setup(api, db, client, indicator, new PushContent(indicator, keys, offset: 1_000_000, "shutdown"), keys[0]);
    }

    [Fact(Timeout = 30_000)]
    public async Task On_SIGTERM_an_in_flight_push_finishes_within_the_grace_period_while_new_connections_are_refused()
    {
        var s = await StartAsync("00:00:15");
        await using var api = s.Api;
        using var client = s.Client;
        Task<HttpResponseMessage> sending;
        TimeSpan refusedAfter;
        await using (await s.Db.LockValueAsync(s.Indicator, s.Locked))
        {
            using var request = s.Push.Request(Guid.NewGuid().ToString());
            sending = client.SendAsync(request, Ct);
            await s.Db.WaitForServiceBlockedAsync(TimeSpan.FromSeconds(20), () => api.Output);
            var clock = Stopwatch.StartNew();
            await api.TerminateAsync(Ct);
            // A new connection is refused while the push still waits.
            await FaultDatabase.WaitUntilAsync(async () => !await AcceptsAsync(api), TimeSpan.FromSeconds(5), () => "the listener to close");
            refusedAfter = clock.Elapsed;
            Assert.False(sending.IsCompleted);
            Assert.False(api.HasExited);
        }

        using var response = await sending;
        var summary = await response.ShouldBeAsync(HttpStatusCode.OK);
        Assert.True(summary["applied"]!.GetValue<bool>());
        Assert.Equal(0, await api.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        var stored = await s.Db.ValuesAsync(s.Indicator);
        var lost = s.Push.Lost(stored);
        Assert.Equal(0, lost);

        FaultApi.Figure($"SIGTERM during a {s.Push.Rows.Count}-row push (grace 15 s): new connections refused after " +
            $"{refusedAfter.TotalSeconds:0.0} s; " +
                        $"the push finished (200) once its lock was released, then the process exited 0; rows lost {lost}.");
    }

    [Fact(Timeout = 30_000)]
    public async Task On_SIGTERM_a_push_that_cannot_finish_within_the_grace_period_is_rolled_back()
    {
        var s = await StartAsync("00:00:02");
        await using var api = s.Api;
        using var client = s.Client;
        var idempotencyKey = Guid.NewGuid().ToString();
        TimeSpan exitedAfter;
        string answer;
        await using (await s.Db.LockValueAsync(s.Indicator, s.Locked))
        {
            using var request = s.Push.Request(idempotencyKey);
            var sending = client.SendAsync(request, Ct);
            await s.Db.WaitForServiceBlockedAsync(TimeSpan.FromSeconds(20), () => api.Output);
            var clock = Stopwatch.StartNew();
            await api.TerminateAsync(Ct);
            await api.WaitForExitAsync(TimeSpan.FromSeconds(12));
            exitedAfter = clock.Elapsed;
            try
            {
                using var response = await sending;
                // Answered before the process went: then only as a refusal, never as applied or a 500.
                await FaultApi.RefusedAsync(response);
                answer = "503 problem";
            }
            catch (HttpRequestException)
            {
                answer = "connection closed";
            }
        }

        // Once its backend is gone, nothing of the push is there.
        await FaultDatabase.WaitUntilAsync(async () => await s.Db.ServiceBackendsAsync("backend_xid IS NOT NULL") == 0, TimeSpan.FromSeconds(15),
            () => "the push's transaction to end");
        Assert.Equal((0m, "before"), Assert.Single(await s.Db.ValuesAsync(s.Indicator)).Value);
        Assert.Equal(0, await s.Db.IdempotencyKeysAsync(idempotencyKey));
        Assert.Equal(1, await s.Db.PushJournalEntriesAsync());

        FaultApi.Figure($"SIGTERM during a {s.Push.Rows.Count}-row push that cannot finish (grace 2 s): the process exited after " +
                        $"{exitedAfter.TotalSeconds:0.0} s, the client saw: {answer}; nothing of the push was written.");
    }

    static async Task<bool> AcceptsAsync(ApiProcess api)
    {
        using var probe = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await probe.GetAsync("/health/live", Ct);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!Ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
