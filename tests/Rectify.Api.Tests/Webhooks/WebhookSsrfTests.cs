using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Webhooks;

/// <summary>
/// Any host name allowed, but no special address: subscriptions to metadata, private and loopback targets (by address
/// or by a name resolving to one) are refused with a problem, before any connection is made.
/// </summary>
public sealed class WebhookSsrfTests(WebhookSsrfTests.App app) : IClassFixture<WebhookSsrfTests.App>
{
    public sealed class App(TestCluster cluster) : WebhookApp(cluster)
    {
        protected override bool AllowLoopback => false;
    }

    readonly WebhookKit _kit = new(app);

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[fd00:ec2::254]/")]
    [InlineData("http://10.0.0.5:8080/hook")]
    [InlineData("http://192.168.1.10/hook")]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://localhost:9/hook")]
    [InlineData("http://[::ffff:127.0.0.1]:9/hook")]
    [InlineData("file:///etc/passwd")]
    public async Task A_subscription_to_an_internal_target_is_refused_before_any_connection(string url)
    {
        using var response = await _kit.Client.PostJsonAsync("/api/v1/webhooks", new { url, eventTypes = new[] { "issue.state-changed" } });
        await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Empty(app.Network.Connects);
        Assert.Empty(app.Network.Outside);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM webhook_subscriptions"));
    }
}
