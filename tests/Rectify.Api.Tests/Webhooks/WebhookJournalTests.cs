using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Webhooks;

/// <summary>Every change of a subscription is in the journal with its before and after, the automatic pause too, never its secret.</summary>
public sealed class WebhookJournalTests(WebhookApp app) : IClassFixture<WebhookApp>
{
    readonly WebhookKit _kit = new(app);

    [Fact]
    public async Task Create_pause_resume_and_delete_are_journalled_without_the_secret()
    {
        var healthy = false;
        await using var receiver =
            new Receiver(_ => Task.FromResult<(int, Dictionary<string, string>?)>((Volatile.Read(ref healthy) ? 200 : 500, null)));
        var (subscription, secret) = await _kit.SubscribeAsync(receiver.Url);
        await _kit.StateChangeAsync();
        await _kit.WaitAsync(() => _kit.Client.GetJsonAsync($"/api/v1/webhooks/{subscription}"), s => s["state"]!.GetValue<string>() == "paused",
            "the pause");
        Volatile.Write(ref healthy, true);
        using (var resume = await _kit.Client.PostJsonAsync($"/api/v1/webhooks/{subscription}/resume", new { }))
            await resume.ShouldBeAsync(HttpStatusCode.OK);
        using (var delete = await _kit.Client.DeleteAsync($"/api/v1/webhooks/{subscription}", TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        var page = await _kit.Client.GetJsonAsync($"/api/v1/journal?entity=webhook-subscription&entityId={subscription}");
        var entries = page["items"]!.AsArray().Select(e => e!).ToList();
        Assert.Equal(["create", "pause", "resume", "delete"], entries.Select(e => e["action"]!.GetValue<string>()));
        Assert.All(entries, e => Assert.Equal("webhook-subscription", e["entity"]!.GetValue<string>()));
        var (create, pause, resumed, deleted) = (entries[0], entries[1], entries[2], entries[3]);
        Assert.Null(create["before"]);
        Assert.Equal(receiver.Url, create["after"]!["url"]!.GetValue<string>());
        Assert.Equal("system", pause["actor"]!.GetValue<string>()); // the service paused it, not a client
        Assert.Equal("active", pause["before"]!["state"]!.GetValue<string>());
        Assert.Equal("paused", pause["after"]!["state"]!.GetValue<string>());
        Assert.Contains("500", pause["after"]!["pausedReason"]!.GetValue<string>());
        Assert.NotEqual("system", create["actor"]!.GetValue<string>());
        Assert.Equal(create["actor"]!.GetValue<string>(), resumed["actor"]!.GetValue<string>());
        Assert.Equal("paused", resumed["before"]!["state"]!.GetValue<string>());
        Assert.Equal("active", resumed["after"]!["state"]!.GetValue<string>());
        Assert.Equal(subscription, deleted["before"]!["id"]!.GetValue<long>());
        Assert.Null(deleted["after"]);
        var text = page.ToJsonString();
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", text, StringComparison.OrdinalIgnoreCase);
    }
}
