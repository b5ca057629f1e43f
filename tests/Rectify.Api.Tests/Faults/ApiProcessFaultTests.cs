using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Faults;

/// <summary>
/// Faults of the service's own process, run as a real process behind Kestrel on a database of its own: killed
/// (SIGKILL) in the middle of a push, and a slow sender that Kestrel's data-rate limit must cut off — which a
/// TestServer does not enforce.
/// </summary>
public sealed class ApiProcessFaultTests(TestCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The settings of a service process on <paramref name="connectionString"/>, plus <paramref name="extra"/>.</summary>
    public static Dictionary<string, string> Settings(string connectionString, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Rectify"] = connectionString,
            ["Database__LoadDemoData"] = "false",
            ["Rectify__Access__PushesPerMinute"] = "10000",
            ["Rectify__Access__RequestsPerMinute"] = "100000",
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    [Fact(Timeout = 90_000)] // two process starts and a 40,000-row push twice: ~35 s alone, more beside the other fault tests
    public async Task The_service_killed_in_the_middle_of_a_push_leaves_nothing_of_it_and_a_replay_after_restart_lands_it_exactly_once()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var db = new FaultDatabase(connectionString);
        var apiKey = await TestKeys.CreateAsync(connectionString, Ct);
        var keys = PushContent.Keys(await db.UnitsAsync(Seed.Unique("KL"), 400), months: 100);
        var idempotencyKey = Guid.NewGuid().ToString();
        string indicator;
        PushContent push;
        var clock = Stopwatch.StartNew();
        TimeSpan killedAt;
        // The service's temporary files (the push's spool) go to a folder of this test, to see what the kill leaves there.
        var temp = Directory.CreateTempSubdirectory("rectify-kill-").FullName;
        var settings = Settings(connectionString, ("TMPDIR", temp));
        string[] spooledByKilled;

        await using (var first = await ApiProcess.StartAsync(settings, Ct))
        {
            first.ApiKey = apiKey;
            using var client = first.Client();
            indicator = await FaultApi.IndicatorAsync(client);
            push = new PushContent(indicator, keys, offset: 1_000_000, "killed");
            // The first key already has a value, locked below: the push's merge waits on it, deep in its transaction.
            await FaultApi.PushAppliedAsync(client, new PushContent(indicator, [keys[0]], offset: 0, "before"));

            await using (await db.LockValueAsync(indicator, keys[0]))
            {
                using var request = push.Request(idempotencyKey);
                var sending = client.SendAsync(request, Ct);
                await db.WaitForServiceBlockedAsync(TimeSpan.FromSeconds(25), () => first.Output);
                await first.KillAsync();
                killedAt = clock.Elapsed;
                await Assert.ThrowsAnyAsync<HttpRequestException>(() => sending);
                spooledByKilled = Directory.GetFiles(temp, "*.spool");
            }
        }

        // The service comes back while the orphaned backend goes on until it finds its client gone (here, once the lock
        // is released and it tries to answer); with no COMMIT ever sent, its transaction is rolled back.
        var restarting = ApiProcess.StartAsync(settings, Ct);
        var orphanEnded = Task.Run(async () =>
        {
            await FaultDatabase.WaitUntilAsync(async () => await db.ServiceBackendsAsync("backend_xid IS NOT NULL") == 0,
                TimeSpan.FromSeconds(20), () => "the killed service's transaction to end");
            return clock.Elapsed;
        }, Ct);
        await using var second = await restarting;
        var goneAt = await orphanEnded;
        var afterKill = await db.ValuesAsync(indicator);
        Assert.Equal((0m, "before"), Assert.Single(afterKill).Value);
        Assert.Equal(0, await db.IdempotencyKeysAsync(idempotencyKey));
        Assert.Equal(1, await db.PushJournalEntriesAsync());

        second.ApiKey = apiKey;
        using (var client = second.Client())
        {
            var landed = await FaultApi.PushAppliedAsync(client, push, idempotencyKey);
            Assert.True(landed["applied"]!.GetValue<bool>());
            using var again = push.Request(idempotencyKey);
            using var replay = await client.SendAsync(again, Ct);
            var replayed = await replay.ShouldBeAsync(HttpStatusCode.OK);
            Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
            Assert.Equal(landed["importId"]!.GetValue<string>(), replayed["importId"]!.GetValue<string>());
        }
        var stored = await db.ValuesAsync(indicator);
        var lost = push.Lost(stored);
        var duplicated = await db.PushJournalEntriesAsync() - 2; // the first value, then this push once
        Assert.Equal(0, lost);
        Assert.Equal(keys.Count, stored.Count);
        Assert.Equal(0, duplicated);

        FaultApi.Figure($"SIGKILL of the service during a {keys.Count}-row push (merge waiting on a row lock): the orphaned transaction ended " +
                        $"{(goneAt - killedAt).TotalSeconds:0.0} s after the kill (rolled back once it found its client gone), nothing of the push " +
                            $"present " +
                        $"(1 earlier value, no idempotency record); the replay after restart landed it once, a second replay was answered from the " +
                        $"record; {stored.Count} rows stored; rows lost {lost}, duplicated {duplicated}; {clock.Elapsed.TotalSeconds:0.0} s in all.");

        // Nor on disk: the killed push's spool file must not outlive it (or at least the restart) — a node that is killed
        // again and again must not fill its disk.
        var leftovers = spooledByKilled.Where(File.Exists).Select(Path.GetFileName).ToArray();
        Directory.Delete(temp, recursive: true);
        Assert.True(leftovers.Length == 0, $"The killed push's spool is still on disk after the restart: {string.Join(", ", leftovers)}");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_slow_sender_of_a_large_body_is_cut_off_by_the_data_rate_limit_without_holding_a_database_connection()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var db = new FaultDatabase(connectionString);
        var apiKey = await TestKeys.CreateAsync(connectionString, Ct);
        await using var api = await ApiProcess.StartAsync(Settings(connectionString,
            ("Rectify__Http__MinBodyBytesPerSecond", "1000"), ("Rectify__Http__MinBodyRateGracePeriod", "00:00:02"),
            // Only the request may show in pg_stat_activity: the service's own background work (webhook polling, the daily
            // warnings run, month-end drafts) would be counted as a connection the slow body holds.
            ("Rectify__Webhooks__Deliver", "false"), ("Rectify__Warnings__DailyJob", "false"), ("Rectify__Snapshots__MonthEndDrafts", "false")), Ct);
        api.ApiKey = apiKey;
        string indicator;
        using (var client = api.Client()) indicator = await FaultApi.IndicatorAsync(client);
        var units = await db.UnitsAsync(Seed.Unique("SL"), 1);
        var idempotencyKey = Guid.NewGuid().ToString();

        // A push that announces 10 MB and then sends 100 bytes a second.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, api.Port, Ct);
        var stream = tcp.GetStream();
        var head = $"POST {PushContent.ImportUrl} HTTP/1.1\r\nHost: 127.0.0.1:{api.Port}\r\nAuthorization: Bearer {apiKey}\r\n" +
                   $"Content-Type: text/csv\r\nContent-Length: 10000000\r\nIdempotency-Key: " +
                       $"{idempotencyKey}\r\n\r\nindicator,unit,period,value,comment\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), Ct);
        var clock = Stopwatch.StartNew();
        var answer = ReadAnswerAsync(stream);

        long sent = 0, samples = 0, held = 0;
        var row = Encoding.ASCII.GetBytes($"{indicator},{units[0]},2025-01,1,slow\r\n");
        while (!answer.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            try
            {
                await stream.WriteAsync(row.AsMemory(0, 10), Ct);
                sent += 10;
            }
            catch (IOException)
            {
                break;
            }
            // After the request's first moments (the key and the catalogue are read before the body), no backend of the
            // service may be busy or idle in a transaction while the body trickles in.
            if (clock.Elapsed > TimeSpan.FromMilliseconds(500))
            {
                held = Math.Max(held, await db.ServiceBackendsAsync("state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"));
                samples++;
            }
            await Task.Delay(100, Ct);
        }
        var (response, error) = await answer.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var cutAfter = clock.Elapsed;

        var status = response.Length == 0 ? null : response.Split("\r\n")[0];
        FaultApi.Figure($"Slow sender (100 B/s against a minimum of 1000 B/s after a 2 s grace): cut off after {cutAfter.TotalSeconds:0.0} s " +
                        $"having sent {sent} bytes, answer: {status ?? "connection closed" + (error is null ? "" : $" ({error})")}; " +
                        $"service backends busy or in a transaction meanwhile: {held} in {samples} samples.");
        Assert.True(samples >= 5, $"Only {samples} samples of pg_stat_activity were taken.");
        Assert.Equal(0, held);
        Assert.True(cutAfter < TimeSpan.FromSeconds(10), $"The slow sender was not cut off within 10 s (sent {sent} bytes).");

        // Nothing of it was written, and the service goes on answering.
        Assert.Equal(0, await db.IdempotencyKeysAsync(idempotencyKey));
        Assert.Empty(await db.ValuesAsync(indicator));
        using (var client = api.Client())
        {
            await FaultApi.ReadyAsync(client, TimeSpan.FromSeconds(5));
            using var rounds = await client.GetAsync("/api/v1/rounds", Ct);
            await rounds.ShouldBeAsync(HttpStatusCode.OK);
        }

        // Cut off as a timeout (408) or by closing the connection — not answered as if the request were malformed.
        Assert.True(status is null || status.StartsWith("HTTP/1.1 408", StringComparison.Ordinal),
            $"Expected the connection to be reset or a 408 after {cutAfter.TotalSeconds:0.0} s, got: {response}");
    }

    /// <summary>Everything the server sends until it closes the connection; and the error that ended the read, if any.</summary>
    static async Task<(string Response, string? Error)> ReadAnswerAsync(NetworkStream stream)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, Ct)) > 0) received.Write(buffer, 0, read);
            return (Encoding.UTF8.GetString(received.ToArray()), null);
        }
        catch (IOException e)
        {
            return (Encoding.UTF8.GetString(received.ToArray()), e.InnerException is SocketException s ? s.SocketErrorCode.ToString() : e.Message);
        }
    }
}
