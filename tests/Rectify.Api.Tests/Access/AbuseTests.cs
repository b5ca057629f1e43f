using System.Net;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>Rate limits per client (429 problems with Retry-After, then recovery) and keys kept out of the log.</summary>
public sealed class AbuseTests(LimitedApp app) : IClassFixture<LimitedApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_over_its_rate_is_told_to_wait_and_recovers_while_others_are_not_affected()
    {
        var key = await app.CreateClientAsync("busy-reader", [Scopes.Read]);
        var busy = app.ClientWith(key);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            using var response = await busy.GetAsync("/api/v1/units", Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
                await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "too-many-requests");
            }
        }
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        using var other = await app.ClientWith(await app.CreateClientAsync("quiet-reader", [Scopes.Read])).GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        using var again = await busy.GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Keys_never_appear_in_the_log()
    {
        var key = await app.CreateClientAsync("logged-admin", Scopes.All);
        var client = app.ClientWith(key);
        using (var created = await client.PostJsonAsync("/api/v1/clients", new { name = "log-probe", scopes = new[] { "read" } }))
        {
            var id = (await created.ShouldBeAsync(HttpStatusCode.Created))["id"]!.GetValue<long>();
            using var issued = await client.PostJsonAsync($"/api/v1/clients/{id}/keys", new { });
            var newKey = (await issued.ShouldBeAsync(HttpStatusCode.Created))["key"]!.GetValue<string>();
            using var used = await app.ClientWith(newKey).GetAsync("/api/v1/units", Ct);
            using var wrong = await app.ClientWith(newKey[..^2] + "zz").GetAsync("/api/v1/units", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            var log = string.Join('\n', app.Log);
            Assert.NotEmpty(app.Log);
            foreach (var secret in new[] { key, newKey, newKey[13..], key[13..] }) Assert.DoesNotContain(secret, log);
        }
    }
}
