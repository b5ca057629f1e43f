using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Rectify.Api.Tests.Faults;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Health;

/// <summary>
/// The service in front of a database it cannot reach (a proxy that refuses, then forwards to the shared cluster):
/// it starts anyway, is live but not ready, refuses API calls with 503 problems and Retry-After, keeps trying, and is
/// ready and serving within seconds of the database becoming reachable. After an outage that opened the circuit,
/// readiness comes back by itself, without traffic to close the circuit first.
/// </summary>
public sealed class DatabaseOutageReadinessTests(TestCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static async Task<(HttpStatusCode Status, JsonNode Body)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/ready", Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return (response.StatusCode, JsonNode.Parse(text)!);
    }

    static string Check(JsonNode body, string name) => body["checks"]![name]!.GetValue<string>();

    [Fact(Timeout = 45_000)]
    public async Task Started_with_the_database_down_it_is_live_not_ready_refuses_with_503_and_is_ready_within_seconds_once_the_database_is_up()
    {
        var direct = await cluster.CreateDatabaseAsync();
        var apiKey = await TestKeys.CreateAsync(direct, Ct);
        await using var proxy = new TcpProxy(cluster.Cluster.Port, forwarding: false);
        var viaProxy = new NpgsqlConnectionStringBuilder(direct) { Port = proxy.Port }.ConnectionString;
        await using var app = new StandaloneApp(viaProxy, new Dictionary<string, string> { ["Database:Startup:MaxRetryDelay"] = "00:00:01" })
        {
            ApiKey = apiKey,
        };

        var starting = Stopwatch.StartNew();
        _ = app.Server; // the host starts although the database is unreachable
        var startedIn = starting.Elapsed;
        Assert.True(startedIn < TimeSpan.FromSeconds(15), $"Start-up took {startedIn.TotalSeconds:0.0} s.");
        using var client = app.Client(TimeSpan.FromSeconds(10));

        using (var live = await client.GetAsync("/health/live", Ct))
            Assert.Equal("healthy", (await live.ShouldBeAsync(HttpStatusCode.OK))["status"]!.GetValue<string>());
        var (status, body) = await ReadyAsync(client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("unhealthy", body["status"]!.GetValue<string>());
        Assert.Equal("unhealthy", Check(body, "database"));
        Assert.Equal("unhealthy", Check(body, "migrations"));
        FaultApi.RevealsNothing(body, viaProxy);
        using (var rounds = await client.GetAsync("/api/v1/rounds", Ct))
            await FaultApi.RefusedAsync(rounds);

        // It keeps trying on its own (the back-off is capped at 1 s here).
        var attempts = proxy.Attempts;
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        Assert.True(proxy.Attempts > attempts, "The service stopped trying to reach the database.");

        proxy.Forward();
        var reachable = Stopwatch.StartNew();
        await FaultApi.ReadyAsync(client, TimeSpan.FromSeconds(10));
        var readyIn = reachable.Elapsed;
        using (var rounds = await client.GetAsync("/api/v1/rounds", Ct))
            await rounds.ShouldBeAsync(HttpStatusCode.OK);

        FaultApi.Figure($"Start-up with the database down: host started in {startedIn.TotalSeconds:0.0} s, live 200, ready 503, API 503 + " +
            $"Retry-After; " +
                        $"{proxy.Attempts} connection attempts; ready {readyIn.TotalSeconds:0.0} s after the database became reachable.");
    }

    /// <summary>The service with a breaker that opens after 4 failures and breaks for 2 s, on a database behind a forwarding proxy; ready.</summary>
    sealed class BehindProxy : IAsyncDisposable
    {
        public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(2);

        BehindProxy(TcpProxy proxy, StandaloneApp app)
        {
            Proxy = proxy;
            App = app;
            Client = app.Client(TimeSpan.FromSeconds(10));
        }

        public TcpProxy Proxy { get; }
        public StandaloneApp App { get; }
        public HttpClient Client { get; }

        public static async Task<BehindProxy> StartAsync(TestCluster cluster, string settingName, string settingValue)
        {
            var direct = await cluster.CreateDatabaseAsync();
            var apiKey = await TestKeys.CreateAsync(direct, Ct);
            var proxy = new TcpProxy(cluster.Cluster.Port, forwarding: true);
            var viaProxy = new NpgsqlConnectionStringBuilder(direct) { Port = proxy.Port }.ConnectionString;
            var app = new StandaloneApp(viaProxy, new Dictionary<string, string>
            {
                ["Database:Resilience:BreakerMinimumThroughput"] = "4",
                ["Database:Resilience:BreakerBreakDuration"] = BreakDuration.ToString(),
                [settingName] = settingValue,
            })
            {
                ApiKey = apiKey,
            };
            var started = new BehindProxy(proxy, app);
            try
            {
                await FaultApi.ReadyAsync(started.Client, TimeSpan.FromSeconds(10));
                return started;
            }
            catch
            {
                await started.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// The database goes away: requests are refused until the circuit opens, and readiness says so. Successes of the last
        /// 2 s (the breaker's window) weigh against the failures until they age out, so this waits by time, not by count.
        /// </summary>
        public async Task OpenCircuitAsync()
        {
            Proxy.Refuse();
            var opened = false;
            var refusing = Stopwatch.StartNew();
            while (!opened && refusing.Elapsed < TimeSpan.FromSeconds(10))
            {
                using (var rounds = await Client.GetAsync("/api/v1/rounds", Ct)) await FaultApi.RefusedAsync(rounds);
                var (status, body) = await ReadyAsync(Client);
                opened = status == HttpStatusCode.ServiceUnavailable && Check(body, "circuit") == "unhealthy";
            }
            Assert.True(opened, "The circuit did not open within 10 s of refused requests.");
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.DisposeAsync();
            await Proxy.DisposeAsync();
        }
    }

    [Fact(Timeout = 45_000)]
    public async Task After_an_outage_that_opened_the_circuit_readiness_returns_without_any_traffic_once_the_database_is_back()
    {
        // Background work beside the probe (the dispatcher polling every 5 ms) may take the circuit's trial at any moment.
        await using var service = await BehindProxy.StartAsync(cluster, "Rectify:Webhooks:PollInterval", "00:00:00.005");
        await service.OpenCircuitAsync();

        // It comes back; nothing but the readiness probe calls: readiness must not wait for traffic it keeps away.
        service.Proxy.Forward();
        var back = Stopwatch.StartNew();
        await FaultApi.ReadyAsync(service.Client, TimeSpan.FromSeconds(10));
        var readyIn = back.Elapsed;
        using (var rounds = await service.Client.GetAsync("/api/v1/rounds", Ct)) await rounds.ShouldBeAsync(HttpStatusCode.OK);
        var (_, after) = await ReadyAsync(service.Client);
        Assert.Equal("healthy", Check(after, "circuit"));

        FaultApi.Figure($"Outage with the circuit open (break 2 s): ready again {readyIn.TotalSeconds:0.0} s after the database came back, " +
                        "with no request in between; the readiness probe's own trial closed the circuit.");
    }

    [Fact(Timeout = 45_000)]
    public async Task Requests_beside_the_trial_after_an_outage_wait_for_its_outcome_instead_of_being_refused()
    {
        await using var service = await BehindProxy.StartAsync(cluster, "Rectify:Webhooks:Deliver", "false");
        await service.OpenCircuitAsync();

        // Back, and no probe after the break: the first request is the trial, and 16 arrive together.
        service.Proxy.Forward();
        await Task.Delay(BehindProxy.BreakDuration + TimeSpan.FromMilliseconds(300), Ct);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            using var rounds = await service.Client.GetAsync("/api/v1/rounds", Ct);
            return rounds.StatusCode;
        }));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        var (_, after) = await ReadyAsync(service.Client);
        Assert.Equal("healthy", Check(after, "circuit"));
    }
}
