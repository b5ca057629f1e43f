using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rectify.Api.Features.Webhooks;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;

namespace Rectify.Api.Tests.Webhooks;

/// <summary>The service with fast webhook timings, 127.0.0.1 allowed explicitly, and a network that refuses everything else.</summary>
public class WebhookApp(TestCluster cluster) : RectifyApp(cluster)
{
    public RecordingNetwork Network { get; } = new();

    /// <summary>Whether loopback is explicitly allowed (the SSRF tests run without).</summary>
    protected virtual bool AllowLoopback => true;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        foreach (var (key, value) in Settings(AllowLoopback)) builder.UseSetting(key.Replace("__", ":", StringComparison.Ordinal), value);
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<IOutboundNetwork>();
            services.AddSingleton<IOutboundNetwork>(Network);
        });
    }

    /// <summary>Fast timings for tests, as environment-style keys (also for child processes).</summary>
    public static Dictionary<string, string> Settings(bool allowLoopback = true)
    {
        var settings = new Dictionary<string, string>
        {
            ["Rectify__Webhooks__AllowedHosts__0"] = allowLoopback ? "127.0.0.1" : "*",
            ["Rectify__Webhooks__PollInterval"] = "00:00:00.100",
            ["Rectify__Webhooks__RetriesPerDelivery"] = "1",
            ["Rectify__Webhooks__RetryDelay"] = "00:00:00.200",
            ["Rectify__Webhooks__Backoff"] = "00:00:00.300",
            ["Rectify__Webhooks__PauseAfterFailures"] = "3",
            ["Rectify__Webhooks__AttemptTimeout"] = "00:00:05",
            // Above the attempt timeout, as required; short, so that a killed node's lease ends soon.
            ["Rectify__Webhooks__Lease"] = "00:00:08",
        };
        if (allowLoopback) settings["Rectify__Webhooks__AllowedNetworks__0"] = "127.0.0.1/32";
        return settings;
    }
}

public sealed class WebhookKit(RectifyApp app)
{
    public HttpClient Client { get; } = app.Client();
    public IssueKit Issues { get; } = new(app);

    public async Task<(long Id, string Secret)> SubscribeAsync(string url, params string[] types)
    {
        using var response =
            await Client.PostJsonAsync("/api/v1/webhooks", new { url, eventTypes = types.Length > 0 ? types : [WebhookEvents.IssueStateChanged] });
        var body = await response.ShouldBeAsync(HttpStatusCode.Created);
        return (body["subscription"]!["id"]!.GetValue<long>(), body["secret"]!.GetValue<string>());
    }

    /// <summary>Makes one issue.state-changed event (an issue moved to in_progress); returns the issue id.</summary>
    public async Task<long> StateChangeAsync()
    {
        var round = await Issues.Seed.RoundAsync();
        var issue = (await Issues.Seed.IssueAsync(round))["id"]!.GetValue<long>();
        await Issues.MoveAsync(issue, "in_progress");
        return issue;
    }

    public async Task<JsonNode> DeliveriesAsync(long subscription) => await Client.GetJsonAsync($"/api/v1/webhooks/{subscription}/deliveries");

    public async Task<JsonNode> WaitAsync(Func<Task<JsonNode>> read, Func<JsonNode, bool> until, string what)
    {
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var node = await read();
            if (until(node)) return node;
            if (DateTime.UtcNow > end) throw new TimeoutException($"Waited for {what}; last: {node.ToJsonString()}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public async Task UnsubscribeAsync(long id)
    {
        using var _ = await Client.DeleteAsync($"/api/v1/webhooks/{id}", TestContext.Current.CancellationToken);
    }
}
