using System.Net;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>
/// A node trusts a key it verified for at most <see cref="StatedBound"/> (the revocation bound the README states): a burst of
/// requests with one key looks it up once, a key revoked by another node (straight in the database here) is refused
/// once the bound has passed, a key revoked through this node at once, and an expiry is exact whatever the cache holds.
/// </summary>
public sealed class VerifiedKeyTests(RectifyApp app, ITestOutputHelper output) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly TimeSpan StatedBound = TimeSpan.FromSeconds(5);

    static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    async Task<HttpStatusCode> StatusAsync(string key)
    {
        using var response = await app.ClientWith(key).GetAsync("/api/v1/units", Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_key_verified_once_is_not_looked_up_again_within_the_bound()
    {
        var key = await app.CreateClientAsync("burst-reader", [Scopes.Read]);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/units");
        var (response, commands) = await CommandTrace.SendAsync(app.ClientWith(key), request, output);
        using (response) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(commands,
            c => (c.GetTagItem("db.query.text") ?? c.GetTagItem("db.statement"))?.ToString()?.Contains("api_keys") == true);
    }

    [Fact]
    public async Task A_key_revoked_on_another_node_is_refused_within_the_bound()
    {
        var key = await app.CreateClientAsync("revoked-elsewhere", [Scopes.Read]);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));

        // Another node revokes it: this node's copy says nothing of that until the bound has passed.
        await app.ScalarAsync<int>("UPDATE api_keys SET revoked_at = now() WHERE prefix = @prefix RETURNING 1", new { prefix = key.Substring(4, 8) });
        app.Clock.Advance(StatedBound + Margin);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(key));
    }

    [Fact]
    public async Task A_client_revoked_on_another_node_is_refused_within_the_bound()
    {
        var key = await app.CreateClientAsync("client-revoked-elsewhere", [Scopes.Read]);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));

        await app.ScalarAsync<int>("""
            UPDATE clients SET revoked_at = now() WHERE id = (SELECT client_id FROM api_keys WHERE prefix = @prefix) RETURNING 1
            """, new { prefix = key.Substring(4, 8) });
        app.Clock.Advance(StatedBound + Margin);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(key));
    }

    [Fact]
    public async Task A_key_revoked_through_this_node_is_refused_at_once()
    {
        var key = await app.CreateClientAsync("revoked-here", [Scopes.Read]);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));
        var id = await app.ScalarAsync<long>("SELECT client_id FROM api_keys WHERE prefix = @prefix", new { prefix = key.Substring(4, 8) });

        using var revoke = await app.Client().DeleteAsync($"/api/v1/clients/{id}/keys/{key.Substring(4, 8)}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(key));
    }

    [Fact]
    public async Task A_verified_key_that_expires_is_refused_on_time()
    {
        var expiresAt = app.Clock.GetUtcNow().UtcDateTime.AddSeconds(2);
        var key = await app.CreateClientAsync("expiring-reader", [Scopes.Read], expiresAt: expiresAt);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(key));

        app.Clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(key));
    }
}
