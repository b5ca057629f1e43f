using System.Net;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>
/// An admin limited to units grants only what it holds (its scopes, units within its own, never every unit) and
/// issues keys to or revokes only clients within those rights; an admin of every unit grants anything.
/// </summary>
public sealed class LimitedAdminTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly Seed _seed = new(app);

    /// <summary>Haikou's admin: admin, read and push, for 460100 and below.</summary>
    async Task<HttpClient> HaikouAdminAsync()
    {
        await _seed.UnitsAsync();
        return app.ClientWith(await app.CreateClientAsync(Seed.Unique("haikou-admin"), [Scopes.Admin, Scopes.Read, Scopes.Push], units: ["460100"]));
    }

    static object Client(string[] scopes, string[]? units) => new { name = Seed.Unique("city-system"), scopes, units };

    static async Task<string> RefusedAsync(HttpResponseMessage response)
        => (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]!.GetValue<string>();

    Task<long> ClientIdOfAsync(string name) => app.ScalarAsync<long>("SELECT id FROM clients WHERE name = @name", new { name });

    [Fact]
    public async Task A_limited_admin_grants_only_its_scopes_for_units_within_its_own()
    {
        var admin = await HaikouAdminAsync();
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM clients");

        using (var unlimited = await admin.PostJsonAsync("/api/v1/clients", Client([Scopes.Read], null)))
            Assert.Contains("every unit", await RefusedAsync(unlimited));
        using (var emptyUnits = await admin.PostJsonAsync("/api/v1/clients", Client([Scopes.Read], [])))
            Assert.Contains("every unit", await RefusedAsync(emptyUnits));
        using (var everything = await admin.PostJsonAsync("/api/v1/clients", Client(Scopes.All, null)))
        {
            var detail = await RefusedAsync(everything);
            Assert.Contains("write", detail);
            Assert.Contains("review", detail);
        }
        using (var wider = await admin.PostJsonAsync("/api/v1/clients", Client([Scopes.Read], ["460000"])))
            Assert.Contains("460000", await RefusedAsync(wider));
        using (var department = await admin.PostJsonAsync("/api/v1/clients", Client([Scopes.Push], ["460105", "HNMZT"])))
            Assert.Contains("HNMZT", await RefusedAsync(department));
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM clients"));

        using (var district = await admin.PostJsonAsync("/api/v1/clients", Client([Scopes.Read, Scopes.Push], ["460105"])))
            await district.ShouldBeAsync(HttpStatusCode.Created);
        using (var deputy = await admin.PostJsonAsync("/api/v1/clients", Client([Scopes.Admin, Scopes.Read], ["460100"])))
            await deputy.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_limited_admin_manages_only_clients_within_its_rights()
    {
        var admin = await HaikouAdminAsync();
        // Wider than Haikou's admin: every unit (the suite's client); a scope it lacks; a unit outside its own.
        var suite = await ClientIdOfAsync(RectifyApp.ClientName);
        var writerName = Seed.Unique("haikou-writer");
        var writerKey = await app.CreateClientAsync(writerName, [Scopes.Write], units: ["460105"]);
        var provinceName = Seed.Unique("province-reader");
        var provinceKey = await app.CreateClientAsync(provinceName, [Scopes.Read], units: ["460000"]);

        foreach (var (id, key) in new[] { (suite, app.ApiKey), (await ClientIdOfAsync(writerName), writerKey),
            (await ClientIdOfAsync(provinceName), provinceKey) })
        {
            var keysBefore = await app.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE client_id = @id", new { id });
            using (var issue = await admin.PostAsync($"/api/v1/clients/{id}/keys", null, Ct)) await RefusedAsync(issue);
            using (var revokeKey = await admin.DeleteAsync($"/api/v1/clients/{id}/keys/{key.Substring(4, 8)}", Ct)) await RefusedAsync(revokeKey);
            using (var revoke = await admin.PostAsync($"/api/v1/clients/{id}/revoke", null, Ct)) await RefusedAsync(revoke);
            Assert.Equal(keysBefore,
                await app.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE client_id = @id AND revoked_at IS NULL", new { id }));
            Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM clients WHERE id = @id AND revoked_at IS NOT NULL", new { id }));
        }

        var districtName = Seed.Unique("xiuying-push");
        var districtKey = await app.CreateClientAsync(districtName, [Scopes.Push], units: ["460105"]);
        var district = await ClientIdOfAsync(districtName);
        using (var issue = await admin.PostAsync($"/api/v1/clients/{district}/keys", null, Ct)) await issue.ShouldBeAsync(HttpStatusCode.Created);
        using (var revokeKey = await admin.DeleteAsync($"/api/v1/clients/{district}/keys/{districtKey.Substring(4, 8)}", Ct))
            Assert.Equal(HttpStatusCode.NoContent, revokeKey.StatusCode);
        using (var revoke = await admin.PostAsync($"/api/v1/clients/{district}/revoke", null, Ct)) await revoke.ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_admin_of_every_unit_grants_anything_even_scopes_it_does_not_hold()
    {
        await _seed.UnitsAsync();
        var opsAdmin = app.ClientWith(await app.CreateClientAsync(Seed.Unique("ops-admin"), [Scopes.Admin]));
        using var created = await opsAdmin.PostJsonAsync("/api/v1/clients", Client(Scopes.All, null));
        await created.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_key_is_issued_without_a_body()
    {
        await _seed.UnitsAsync();
        var name = Seed.Unique("bodiless");
        await app.CreateClientAsync(name, [Scopes.Read]);
        var id = await ClientIdOfAsync(name);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/clients/{id}/keys");
        using var issued = await app.Client().SendAsync(request, Ct);
        Assert.Null(request.Content?.Headers.ContentType);
        var key = await issued.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Null(key["expiresAt"]);
        using var works = await app.ClientWith(key["key"]!.GetValue<string>()).GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.OK, works.StatusCode);
    }
}
