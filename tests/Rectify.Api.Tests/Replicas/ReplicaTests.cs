using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Faults;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Replicas;

/// <summary>
/// The service over a primary and a streaming standby (a multi-host connection string). GETs are served by the standby
/// and writes by the primary, as the admin-only <c>Served-By</c> header shows (from the server's own
/// <c>in_hot_standby</c> report); a caller reads its own write with <c>Consistency: strong</c> or with the write's
/// <c>Min-LSN</c>, under a real replay delay; a stopped standby hands reads to the primary without a failed request; a
/// stopped primary refuses writes with 503 while the standby serves reads, and writes resume when it is back.
/// </summary>
public sealed class ReplicaTests(ReplicaPair pair) : IClassFixture<ReplicaPair>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    string OnStandby => $"standby 127.0.0.1:{pair.Standby.Port}";
    string OnPrimary => $"primary 127.0.0.1:{pair.Primary.Port}";

    static string? ServedBy(HttpResponseMessage response)
        => response.Headers.TryGetValues("Served-By", out var values) ? string.Join(", ", values) : null;

    static string? MinLsn(HttpResponseMessage response)
        => response.Headers.TryGetValues("Min-LSN", out var values) ? values.Single() : null;

    Task<HttpResponseMessage> CreateRoundAsync(HttpClient client, string code) => client.PostJsonAsync("/api/v1/rounds", new
    {
        code, name = "副本测试轮次", inspectedUnit = pair.InspectedUnit, inspectionBody = "省委第六巡视组",
        inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31", state = "rectifying",
    });

    static async Task<HttpResponseMessage> GetAsync(HttpClient client, string url, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        return await client.SendAsync(request, Ct);
    }

    [Fact(Timeout = 60_000)]
    public async Task Gets_are_served_by_the_standby_writes_by_the_primary_and_an_admin_sees_each_host_and_its_lag()
    {
        using var client = pair.App.Client();
        await pair.CaughtUpAsync(TimeSpan.FromSeconds(10));

        using (var list = await client.GetAsync("/api/v1/rounds", Ct))
        {
            await list.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal(OnStandby, ServedBy(list));
            Assert.Null(MinLsn(list));
        }
        var code = Seed.Unique("RW");
        using (var created = await CreateRoundAsync(client, code))
        {
            await created.ShouldBeAsync(HttpStatusCode.Created);
            Assert.Equal(OnPrimary, ServedBy(created));
            Assert.Matches("^[0-9A-F]+/[0-9A-F]+$", MinLsn(created));
        }
        // The change feed reads its bound from pg_current_snapshot(), which a standby answers from what it has replayed.
        using (var changes = await client.GetAsync("/api/v1/changes", Ct))
        {
            await changes.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal(OnStandby, ServedBy(changes));
        }
        // The data-value export streams from a connection of its own, outside the pipeline: routed the same way.
        using (var csv = await client.GetAsync("/api/v1/data-values/export", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
            Assert.Equal(OnStandby, ServedBy(csv));
        }

        // Served-By is for admins only.
        var reader = await ReaderKeyAsync();
        using (var asReader = pair.App.Client())
        {
            asReader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", reader);
            using var list = await asReader.GetAsync("/api/v1/rounds", Ct);
            await list.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Null(ServedBy(list));
        }

        // Readiness: a replicas check for everyone; each host with its role and lag for an admin only.
        using (var anonymous = pair.App.Client())
        {
            anonymous.DefaultRequestHeaders.Authorization = null;
            var body = await (await anonymous.GetAsync("/health/ready", Ct)).ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal("healthy", body["checks"]!["replicas"]!.GetValue<string>());
            using var details = await anonymous.GetAsync("/health/replicas", Ct);
            await details.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }
        var replicas = await (await client.GetAsync("/health/replicas", Ct)).ShouldBeAsync(HttpStatusCode.OK);
        var hosts = replicas.AsArray().ToDictionary(h => h!["host"]!.GetValue<string>(), h => h!);
        Assert.Equal("primary", hosts[$"127.0.0.1:{pair.Primary.Port}"]["role"]!.GetValue<string>());
        var standby = hosts[$"127.0.0.1:{pair.Standby.Port}"];
        Assert.Equal("standby", standby["role"]!.GetValue<string>());
        Assert.True(standby["lagSeconds"]!.GetValue<double>() >= 0);
        Assert.True(standby["lagBytes"]!.GetValue<long>() >= 0);

        var metrics = await client.GetStringAsync("/metrics", Ct);
        Assert.Contains("rectify_replica_lag_seconds{", metrics);
        Assert.Contains($"host=\"127.0.0.1:{pair.Standby.Port}\"", metrics);

        // Malformed consistency headers are refused, not ignored.
        using (var bad = await GetAsync(client, "/api/v1/rounds", ("Consistency", "linearizable")))
            await bad.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        using (var bad = await GetAsync(client, "/api/v1/rounds", ("Min-LSN", "yesterday")))
            await bad.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    async Task<string> ReaderKeyAsync()
    {
        var (key, prefix, hash) = Rectify.Api.Infrastructure.Auth.ApiKeys.Generate();
        await using var connection = new Npgsql.NpgsqlConnection(pair.PrimaryConnectionString);
        await connection.OpenAsync(Ct);
        await Dapper.SqlMapper.ExecuteAsync(connection, new Dapper.CommandDefinition("""
            WITH c AS (INSERT INTO clients (name, scopes, created_at) VALUES (@name, ARRAY['read'], now()) RETURNING id)
            INSERT INTO api_keys (client_id, prefix, key_hash, created_at) SELECT id, @prefix, @hash, now() FROM c
            """, new { name = Seed.Unique("replica-reader"), prefix, hash }, cancellationToken: Ct));
        return key;
    }

    [Fact(Timeout = 60_000)]
    public async Task A_caller_reads_its_own_write_with_Consistency_strong_or_its_Min_LSN_while_the_standby_replays_late()
    {
        using var client = pair.App.Client();
        await pair.DelayReplayAsync(TimeSpan.FromSeconds(3));
        try
        {
            var code = Seed.Unique("RYW");
            string minLsn;
            using (var created = await CreateRoundAsync(client, code))
            {
                await created.ShouldBeAsync(HttpStatusCode.Created);
                minLsn = MinLsn(created) ?? throw new InvalidOperationException("A write without Min-LSN.");
            }
            var url = $"/api/v1/rounds/{code}";

            // Plain: the standby, which has not replayed the create yet (the delay is real).
            using (var stale = await client.GetAsync(url, Ct))
            {
                await stale.ShouldBeProblemAsync(HttpStatusCode.NotFound);
                Assert.Equal(OnStandby, ServedBy(stale));
            }
            using (var strong = await GetAsync(client, url, ("Consistency", "strong")))
            {
                await strong.ShouldBeAsync(HttpStatusCode.OK);
                Assert.Equal(OnPrimary, ServedBy(strong));
            }
            using (var fresh = await GetAsync(client, url, ("Min-LSN", minLsn)))
            {
                await fresh.ShouldBeAsync(HttpStatusCode.OK);
                Assert.Equal(OnPrimary, ServedBy(fresh));
            }

            // Once the standby has replayed that far, it serves the same Min-LSN read itself.
            await FaultDatabase.WaitUntilAsync(async () =>
            {
                using var plain = await client.GetAsync(url, Ct);
                return plain.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(15), () => "the standby to replay the create");
            using (var replayed = await GetAsync(client, url, ("Min-LSN", minLsn)))
            {
                await replayed.ShouldBeAsync(HttpStatusCode.OK);
                Assert.Equal(OnStandby, ServedBy(replayed));
            }
        }
        finally
        {
            await pair.DelayReplayAsync(TimeSpan.Zero);
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task A_stopped_standby_hands_reads_to_the_primary_without_a_failed_request_and_serves_again_once_back()
    {
        using var client = pair.App.Client(TimeSpan.FromSeconds(10));
        await pair.CaughtUpAsync(TimeSpan.FromSeconds(10));
        using (var first = await client.GetAsync("/api/v1/rounds", Ct))
            Assert.Equal(OnStandby, ServedBy(first));
        var failures = new List<string>();
        var servers = new List<string?>();
        using var stop = new CancellationTokenSource();
        async Task ReadLoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.GetAsync("/api/v1/rounds", Ct);
                lock (servers)
                {
                    servers.Add(ServedBy(response));
                    if (response.StatusCode != HttpStatusCode.OK) failures.Add($"{(int)response.StatusCode}: " +
                        $"{response.Content.ReadAsStringAsync(Ct).Result}");
                }
            }
        }
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(ReadLoopAsync, Ct)).ToArray();
        try
        {
            await Task.Delay(500, Ct);
            await pair.Standby.StopServerAsync(Ct);
            await Task.Delay(1500, Ct);
            await stop.CancelAsync();
            await Task.WhenAll(readers);
            Assert.Empty(failures);
            Assert.Contains(OnStandby, servers);
            Assert.Equal(OnPrimary, servers[^1]);
            FaultApi.Figure($"Standby stopped under 4 read loops: {servers.Count} reads, {failures.Count} failed, " +
                            $"{servers.Count(s => s == OnStandby)} by the standby, {servers.Count(s => s == OnPrimary)} by the primary.");
        }
        finally
        {
            await stop.CancelAsync();
            await pair.Standby.StartServerAsync(Ct);
        }
        await FaultDatabase.WaitUntilAsync(async () =>
        {
            using var response = await client.GetAsync("/api/v1/rounds", Ct);
            return response.StatusCode == HttpStatusCode.OK && ServedBy(response) == OnStandby;
        }, TimeSpan.FromSeconds(20), () => "reads served by the standby again");
    }

    [Fact(Timeout = 90_000)]
    public async Task A_stopped_primary_refuses_writes_with_503_while_the_standby_serves_reads_and_writes_resume_once_it_is_back()
    {
        using var client = pair.App.Client(TimeSpan.FromSeconds(10));
        var existing = Seed.Unique("RP");
        using (var created = await CreateRoundAsync(client, existing))
            await created.ShouldBeAsync(HttpStatusCode.Created);
        await pair.CaughtUpAsync(TimeSpan.FromSeconds(10));

        await pair.Primary.StopServerAsync(Ct);
        var restarted = false;
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var started = Stopwatch.StartNew();
                using var refused = await CreateRoundAsync(client, Seed.Unique("RP"));
                await FaultApi.RefusedAsync(refused);
                Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"A refused write took {started.Elapsed.TotalSeconds:0.0} s.");
            }
            for (var i = 0; i < 5; i++)
            {
                using var read = await client.GetAsync($"/api/v1/rounds/{existing}", Ct);
                await read.ShouldBeAsync(HttpStatusCode.OK);
                Assert.Equal(OnStandby, ServedBy(read));
            }
            using (var anonymous = pair.App.Client())
            {
                anonymous.DefaultRequestHeaders.Authorization = null;
                using var ready = await anonymous.GetAsync("/health/ready", Ct);
                var body = await ready.ShouldBeAsync(HttpStatusCode.OK);
                Assert.Equal("degraded", body["status"]!.GetValue<string>());
                Assert.Equal("degraded", body["checks"]!["database"]!.GetValue<string>());
            }

            await pair.Primary.StartServerAsync(Ct);
            restarted = true;
            var back = Stopwatch.StartNew();
            var code = Seed.Unique("RP");
            JsonNode? round = null;
            await FaultDatabase.WaitUntilAsync(async () =>
            {
                using var created = await CreateRoundAsync(client, code);
                if (created.StatusCode != HttpStatusCode.Created) return false;
                round = await created.ShouldBeAsync(HttpStatusCode.Created);
                return true;
            }, TimeSpan.FromSeconds(30), () => "writes to resume after the primary came back");
            Assert.Equal(code, round!["code"]!.GetValue<string>());
            FaultApi.Figure($"Primary stopped: writes 503, reads by the standby; writes resumed {back.Elapsed.TotalSeconds:0.0} s after the " +
                $"primary was back.");
        }
        finally
        {
            if (!restarted) await pair.Primary.StartServerAsync(Ct);
        }
    }
}
