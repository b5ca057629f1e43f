using System.Net;
using System.Text.Json.Nodes;
using System.Diagnostics;
using Rectify.Api.Tests.Changes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Webhooks;

/// <summary>Events reach a receiver on 127.0.0.1 signed, are retried after failures, honour Retry-After, and pause a failing subscription.</summary>
public sealed class WebhookDeliveryTests(WebhookApp app) : IClassFixture<WebhookApp>
{
    readonly WebhookKit _kit = new(app);

    [Fact]
    public async Task An_event_arrives_signed_with_the_subscriptions_secret_and_is_logged_as_delivered()
    {
        await using var receiver = Receiver.Always(200);
        var (subscription, secret) = await _kit.SubscribeAsync(receiver.Url);
        var issue = await _kit.StateChangeAsync();

        var got = (await receiver.WaitForAsync(1)).Single();
        Assert.True(got.SignedWith(secret));
        Assert.False(got.SignedWith(secret + "x"));
        Assert.Equal("issue.state-changed", got.Json["type"]!.GetValue<string>());
        Assert.Equal(got.EventId, got.Json["id"]!.GetValue<string>());
        Assert.Equal(issue, got.Json["data"]!["issue"]!["id"]!.GetValue<long>());
        Assert.Equal("open", got.Json["data"]!["previousState"]!.GetValue<string>());
        Assert.Equal("in_progress", got.Json["data"]!["issue"]!["state"]!.GetValue<string>());
        var log = await _kit.WaitAsync(() => _kit.DeliveriesAsync(subscription),
            d => d.AsArray().Any(x => x!["state"]!.GetValue<string>() == "delivered"), "the log");
        Assert.Equal(200, log[0]!["lastStatus"]!.GetValue<int>());
        await _kit.UnsubscribeAsync(subscription);
    }

    [Fact]
    public async Task A_receiver_that_hangs_holds_back_no_change_of_the_feed_and_gets_the_event_when_the_call_is_retried()
    {
        var hanging = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        await using var receiver = new Receiver(async n =>
        {
            if (n > 0) return (200, null);
            hanging.TrySetResult();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30)); // accepts the request and answers nothing for a long time
            return (200, null);
        });
        try
        {
            var feed = new ChangeKit(app);
            var (_, cursor) = await feed.FollowAsync(null, limit: 1000);
            var (subscription, _) = await _kit.SubscribeAsync(receiver.Url);
            await _kit.StateChangeAsync();
            await hanging.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            var clock = Stopwatch.StartNew();

            // While the call hangs (it is given up only after the 5 s attempt timeout), a change committed through the API
            // shows in the feed: the delivery holds no transaction open. Had it held one through the call, the feed would
            // hold the change back until the attempt ended, 5 s after the call began hanging; the clock starts then, so
            // time spent behind other test classes' short transactions (transaction ids are cluster-wide) is allowed for.
            var code = await _kit.Issues.Seed.RoundAsync();
            var rounds = new List<string>();
            while (!rounds.Contains(code) && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                var (items, next) = await feed.FollowAsync(cursor, limit: 1000, types: "round");
                rounds.AddRange(items.Select(i => i["key"]!["code"]!.GetValue<string>()));
                cursor = next;
                if (!rounds.Contains(code)) await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            Assert.Contains(code, rounds);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4.5), $"the change showed {clock.ElapsedMilliseconds} ms after the call began hanging");
            Assert.Single(receiver.Requests); // the call was still hanging meanwhile

            // The hanging call times out, the HTTP pipeline tries again, and the event is delivered, once, under its id.
            var log = await _kit.WaitAsync(() => _kit.DeliveriesAsync(subscription), d => d[0]!["state"]!.GetValue<string>() == "delivered",
                "delivery");
            Assert.Equal(200, log[0]!["lastStatus"]!.GetValue<int>());
            Assert.Equal(2, receiver.Requests.Count);
            Assert.Single(receiver.EventIds);
            await _kit.UnsubscribeAsync(subscription);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_receiver_that_fails_first_gets_the_event_later()
    {
        await using var receiver = new Receiver(n => Task.FromResult<(int, Dictionary<string, string>?)>((n < 3 ? 503 : 200, null)));
        var (subscription, secret) = await _kit.SubscribeAsync(receiver.Url);
        await _kit.StateChangeAsync();

        var got = await receiver.WaitForAsync(4);
        Assert.Single(got.Select(r => r.EventId).Distinct());
        Assert.All(got, r => Assert.True(r.SignedWith(secret)));
        var log = await _kit.WaitAsync(() => _kit.DeliveriesAsync(subscription), d => d[0]!["state"]!.GetValue<string>() == "delivered", "delivery");
        Assert.True(log[0]!["attempts"]!.GetValue<int>() >= 2); // the outbox tried again after the HTTP pipeline's own retry failed
        await _kit.UnsubscribeAsync(subscription);
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retried_no_sooner_than_asked()
    {
        await using var receiver = new Receiver(n => Task.FromResult<(int, Dictionary<string, string>?)>(
            n == 0 ? (429, new Dictionary<string, string> { ["Retry-After"] = "2" }) : (200, null)));
        var (subscription, _) = await _kit.SubscribeAsync(receiver.Url);
        await _kit.StateChangeAsync();

        var got = await receiver.WaitForAsync(2);
        Assert.True(got[1].At - got[0].At >= TimeSpan.FromSeconds(1.9), $"retried after {(got[1].At - got[0].At).TotalMilliseconds} ms");
        await _kit.UnsubscribeAsync(subscription);
    }

    [Fact]
    public async Task A_subscription_that_keeps_failing_is_paused_and_an_admin_resumes_it_and_redelivers()
    {
        var healthy = false;
        await using var receiver =
            new Receiver(_ => Task.FromResult<(int, Dictionary<string, string>?)>((Volatile.Read(ref healthy) ? 200 : 500, null)));
        var (subscription, _) = await _kit.SubscribeAsync(receiver.Url);
        await _kit.StateChangeAsync();

        var paused = await _kit.WaitAsync(() => _kit.Client.GetJsonAsync($"/api/v1/webhooks/{subscription}"),
            s => s["state"]!.GetValue<string>() == "paused", "the pause");
        Assert.Contains("500", paused["pausedReason"]!.GetValue<string>());
        var before = receiver.Requests.Count;
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        Assert.Equal(before, receiver.Requests.Count); // paused: nothing is sent

        Volatile.Write(ref healthy, true);
        using (var resume = await _kit.Client.PostJsonAsync($"/api/v1/webhooks/{subscription}/resume", new { }))
            Assert.Equal("active", (await resume.ShouldBeAsync(System.Net.HttpStatusCode.OK))["state"]!.GetValue<string>());
        var log = await _kit.WaitAsync(() => _kit.DeliveriesAsync(subscription), d => d[0]!["state"]!.GetValue<string>() == "delivered", "delivery");

        var delivery = log[0]!["id"]!.GetValue<long>();
        var count = receiver.Requests.Count;
        using (var again = await _kit.Client.PostJsonAsync($"/api/v1/webhooks/{subscription}/deliveries/{delivery}/redeliver", new { }))
            await again.ShouldBeAsync(System.Net.HttpStatusCode.OK);
        var all = await receiver.WaitForAsync(count + 1);
        Assert.Equal(all[0].EventId, all[^1].EventId); // the same event, the same id
        await _kit.UnsubscribeAsync(subscription);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_a_target_that_bypassed_validation_is_refused_before_connecting()
    {
        // The class's app is shared: other tests' receivers may be connected to meanwhile; only this test's connects count.
        var before = app.Network.Connects.Count;
        await using var receiver = new Receiver(_ => Task.FromResult<(int, Dictionary<string, string>?)>(
            (302, new Dictionary<string, string> { ["Location"] = "http://10.1.2.3/latest/meta-data" })));
        var (redirecting, _) = await _kit.SubscribeAsync(receiver.Url);
        // A row written past the API's check (an older version, a hand edit): the connect callback must still refuse it.
        var forged = await app.ScalarAsync<long>(
            "INSERT INTO webhook_subscriptions (url, event_types, secret, created_by) VALUES ('http://169.254.169.254/hook', " +
                "ARRAY['issue.state-changed'], 's', 'x') RETURNING id");
        await _kit.StateChangeAsync();

        // An attempt is counted when it is claimed, before the call; its outcome follows.
        var redirect =
            await _kit.WaitAsync(() => _kit.DeliveriesAsync(redirecting), d => d.AsArray().Count > 0 && d[0]!["lastError"] is not null,
            "the redirect");
        Assert.Contains("redirect", redirect[0]!["lastError"]!.GetValue<string>());
        var refused =
            await _kit.WaitAsync(() => _kit.DeliveriesAsync(forged), d => d.AsArray().Count > 0 && d[0]!["lastError"] is not null, "the refusal");
        Assert.StartsWith("Refused", refused[0]!["lastError"]!.GetValue<string>());
        Assert.Empty(app.Network.Outside);
        var connects = app.Network.Connects.Skip(before).ToList();
        Assert.Contains(connects, c => c.Port == receiver.Port);
        Assert.All(connects, c => Assert.True(IPAddress.IsLoopback(c.Address), $"connected to {c}"));
        await _kit.UnsubscribeAsync(redirecting);
        await _kit.UnsubscribeAsync(forged);
    }
}
