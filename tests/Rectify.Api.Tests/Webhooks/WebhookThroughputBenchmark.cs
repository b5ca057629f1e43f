using System.Diagnostics;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Webhooks;

/// <summary>
/// Not a test: the measurement behind tests/Benchmarks/webhook-benchmark.sh (explicit, so the suite never runs it).
/// N events committed at once, delivered to one subscription on 127.0.0.1; events per second and commit-to-receipt latency.
/// </summary>
public sealed class WebhookThroughputBenchmark(TestCluster cluster)
{
    [Fact(Explicit = true)]
    public async Task Measure()
    {
        var events = int.TryParse(Environment.GetEnvironmentVariable("RECTIFY_WEBHOOK_BENCHMARK_EVENTS"), out var n) ? n : 2000;
        var connectionString = await cluster.CreateDatabaseAsync();
        var key = await TestKeys.CreateAsync(connectionString, TestContext.Current.CancellationToken);
        var settings = WebhookApp.Settings().ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => p.Value);
        await using var app = new StandaloneApp(connectionString, settings) { ApiKey = key };
        await using var receiver = Receiver.Always(200);
        using var client = app.Client();
        await WebhookNodeTests.SubscribeAsync(client, receiver.Url);
        var ids = await WebhookNodeTests.IssuesAsync(connectionString, events);

        var clock = Stopwatch.StartNew();
        var committed = DateTimeOffset.UtcNow;
        await WebhookNodeTests.MoveAllAsync(connectionString, ids);
        var got = await receiver.WaitForAsync(events, TimeSpan.FromMinutes(10));
        var seconds = clock.Elapsed.TotalSeconds;
        var latencies = got.Select(r => (r.At - committed).TotalMilliseconds).Order().ToArray();
        TestContext.Current.SendDiagnosticMessage($"webhook-benchmark: {events} events in {seconds:F2} s = {events / seconds:F0} events/s; " +
            $"commit-to-receipt first {latencies[0]:F0} ms, median {latencies[latencies.Length / 2]:F0} ms, last {latencies[^1]:F0} ms");
        Console.WriteLine($"webhook-benchmark: {events} events in {seconds:F2} s = {events / seconds:F0} events/s; " +
            $"commit-to-receipt first {latencies[0]:F0} ms, median {latencies[latencies.Length / 2]:F0} ms, last {latencies[^1]:F0} ms");
        Assert.Equal(events, receiver.EventIds.Count);
    }
}
