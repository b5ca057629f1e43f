using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rectify.Api.Features.Webhooks;
using Rectify.Api.Tests.Faults;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Webhooks;

/// <summary>
/// Several nodes: two instances deliver each event exactly once between them, and an event whose delivery was under
/// way when its node was killed (SIGKILL) is delivered by the next node, never lost.
/// </summary>
public sealed class WebhookNodeTests(TestCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Units, a round and <paramref name="issues"/> open issues, written straight in the database.</summary>
    internal static async Task<long[]> IssuesAsync(string connectionString, int issues)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return (await connection.QueryAsync<long>(new CommandDefinition("""
            INSERT INTO units (code, name, kind) VALUES ('HNMZT', '海南省民政厅', 'department') ON CONFLICT DO NOTHING;
            WITH r AS (
                INSERT INTO rounds (code, name, inspected_unit_code, inspection_body, inspection_start, inspection_end, state)
                VALUES (@round, '巡视', 'HNMZT', '巡视组', '2024-09-01', '2024-12-31', 'rectifying') RETURNING id
            )
            INSERT INTO issues (round_id, code, title, lead_unit_code, state)
            SELECT r.id, 'I' || n, '问题 ' || n, 'HNMZT', 'open' FROM r, generate_series(1, @issues) n
            RETURNING id;
            """, new { round = Seed.Unique("R"), issues }, cancellationToken: Ct))).ToArray();
    }

    /// <summary>One event per issue, all committed together, as a bulk update would.</summary>
    internal static async Task MoveAllAsync(string connectionString, long[] ids)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync(new CommandDefinition("UPDATE issues SET state = 'in_progress' WHERE id = ANY (@ids)", new { ids },
            cancellationToken: Ct));
    }

    internal static async Task<long> SubscribeAsync(HttpClient client, string url)
    {
        using var response = await client.PostJsonAsync("/api/v1/webhooks", new { url, eventTypes = new[] { "issue.state-changed" } });
        return (await response.ShouldBeAsync(HttpStatusCode.Created))["subscription"]!["id"]!.GetValue<long>();
    }

    [Fact(Timeout = 120_000)]
    public async Task An_expired_lease_is_taken_over_by_another_node_that_delivers_once_and_the_first_nodes_late_outcome_is_dropped()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var key = await TestKeys.CreateAsync(connectionString, Ct);
        await using var receiver = Receiver.Always(200);
        // The first node's dispatcher is driven by the test: it claims the event and then stalls, as a node does that hangs.
        var stalling = Colon(WebhookApp.Settings());
        stalling["Rectify:Webhooks:Deliver"] = "false";
        stalling["Rectify:Webhooks:Lease"] = "00:00:02";
        stalling["Rectify:Webhooks:AttemptTimeout"] = "00:00:01";
        await using var first = new StandaloneApp(connectionString, stalling) { ApiKey = key };
        using var client = first.Client();
        var subscription = await SubscribeAsync(client, receiver.Url);
        await MoveAllAsync(connectionString, await IssuesAsync(connectionString, 1));
        var stalled = first.Services.GetRequiredService<WebhookDispatcher>();
        var claimedFrom = DateTimeOffset.UtcNow;
        var lease = await stalled.ClaimAsync(Ct);
        Assert.NotNull(lease?.Next);

        await using var second = new StandaloneApp(connectionString, Colon(WebhookApp.Settings())) { ApiKey = key };
        _ = second.Server; // its dispatcher runs, and finds the subscription leased
        var got = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        Assert.True(got[0].At - claimedFrom >= TimeSpan.FromSeconds(1.9), $"sent {(got[0].At - claimedFrom).TotalMilliseconds} ms after the claim");
        Assert.Equal(lease.Next.EventId.ToString(), got[0].EventId);

        // The first node comes back and reports a failure: its lease is gone, so nothing it says is recorded or claimed.
        var late = await stalled.RecordAsync(lease, lease.Next, new WebhookDispatcher.Outcome(false, 500, "HTTP 500", 10, null), claimNext: true, Ct);
        Assert.Null(late);
        await Task.Delay(500, Ct); // time for a duplicate to show, if there were one
        Assert.Single(receiver.Requests);
        var delivery = (await client.GetJsonAsync($"/api/v1/webhooks/{subscription}/deliveries"))[0]!;
        Assert.Equal("delivered", delivery["state"]!.GetValue<string>());
        Assert.Equal(200, delivery["lastStatus"]!.GetValue<int>());
        Assert.Equal(2, delivery["attempts"]!.GetValue<int>()); // the stalled claim and the delivery
        Assert.Equal(0, (await client.GetJsonAsync($"/api/v1/webhooks/{subscription}"))["consecutiveFailures"]!.GetValue<int>());
    }

    static Dictionary<string,
        string> Colon(Dictionary<string, string> settings) =>
        settings.ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => p.Value);

    [Fact(Timeout = 120_000)]
    public async Task Two_instances_deliver_each_event_exactly_once_between_them()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var key = await TestKeys.CreateAsync(connectionString, Ct);
        await using var one = new StandaloneApp(connectionString, Colon(WebhookApp.Settings())) { ApiKey = key };
        await using var two = new StandaloneApp(connectionString, Colon(WebhookApp.Settings())) { ApiKey = key };
        using var client = one.Client();
        _ = two.Server; // both nodes run their dispatcher

        var receivers = Enumerable.Range(0, 3).Select(_ => Receiver.Always(200)).ToArray();
        try
        {
            foreach (var receiver in receivers) await SubscribeAsync(client, receiver.Url);
            var ids = await IssuesAsync(connectionString, 100);
            await MoveAllAsync(connectionString, ids);

            foreach (var receiver in receivers)
            {
                var got = await receiver.WaitForAsync(ids.Length, TimeSpan.FromSeconds(60));
                await Task.Delay(500, Ct); // time for a duplicate to show, if there were one
                Assert.Equal(ids.Length, receiver.Requests.Count);
                Assert.Equal(ids.Length, receiver.EventIds.Count);
                // Per subscription, in outbox order: the issues in the order the statement changed them.
                Assert.Equal(ids, receiver.Requests.Select(r => r.Json["data"]!["issue"]!["id"]!.GetValue<long>()));
            }
        }
        finally
        {
            foreach (var receiver in receivers) await receiver.DisposeAsync();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task An_event_whose_node_was_killed_mid_delivery_is_delivered_by_the_next_node()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var key = await TestKeys.CreateAsync(connectionString, Ct);
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        await using var receiver = new Receiver(async n =>
        {
            if (n > 0) return (200, null);
            holding.TrySetResult();
            await release.Task; // the first delivery never gets its answer: its node is killed meanwhile
            return (200, null);
        });
        var settings = ApiProcessFaultTests.Settings(connectionString, [.. WebhookApp.Settings().Select(p => (p.Key, p.Value))]);
        var ids = await IssuesAsync(connectionString, 1);
        string eventId;
        await using (var first = await ApiProcess.StartAsync(settings, Ct))
        {
            first.ApiKey = key;
            using var client = first.Client();
            var subscription = await SubscribeAsync(client, receiver.Url);
            await MoveAllAsync(connectionString, ids); // committed: the event is in the outbox
            await holding.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            eventId = receiver.Requests[0].EventId;
            await first.KillAsync();
        }

        await using var second = new StandaloneApp(connectionString, Colon(WebhookApp.Settings())) { ApiKey = key };
        using var secondClient = second.Client();
        var got = await receiver.WaitForAsync(2, TimeSpan.FromSeconds(60));
        Assert.Equal(eventId, got[1].EventId);
        await Task.Delay(500, Ct); // time for a duplicate to show, if there were one
        Assert.Equal(2, receiver.Requests.Count); // the killed node's call, and one delivery after its lease expired
        var log = (await secondClient.GetJsonAsync("/api/v1/webhooks")).AsArray();
        var deliveries = await secondClient.GetJsonAsync($"/api/v1/webhooks/{log[0]!["id"]}/deliveries");
        await Task.Delay(300, Ct);
        deliveries = await secondClient.GetJsonAsync($"/api/v1/webhooks/{log[0]!["id"]}/deliveries");
        Assert.Equal("delivered", deliveries[0]!["state"]!.GetValue<string>());
        release.TrySetResult();
    }
}
