using System.Net;
using System.Text;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>Keys issued, rotated and revoked through the admin API; writes limited to the client's units (BOLA).</summary>
public sealed class ClientAccessTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<(long Id, string Key)> AdminCreatesAsync(string name, string[] scopes, string[]? units = null)
    {
        using var created = await app.Client().PostJsonAsync("/api/v1/clients", new { name, contact = "信息中心", scopes, units });
        var client = await created.ShouldBeAsync(HttpStatusCode.Created);
        var id = client["id"]!.GetValue<long>();
        using var issued = await app.Client().PostJsonAsync($"/api/v1/clients/{id}/keys", new { });
        var key = (await issued.ShouldBeAsync(HttpStatusCode.Created))["key"]!.GetValue<string>();
        return (id, key);
    }

    [Fact]
    public async Task A_key_expiring_past_the_last_day_of_year_9999_is_refused_and_the_keys_stay_instants()
    {
        var (id, _) = await AdminCreatesAsync("far-future-system", [Scopes.Read]);
        using var refused = await app.Client().PostJsonAsync($"/api/v1/clients/{id}/keys", new { expiresAt = "9999-12-31T23:59:59.9999999Z" });
        var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Contains("9999-12-31", problem["errors"]!["expiresAt"]![0]!.GetValue<string>());
        using var accepted = await app.Client().PostJsonAsync($"/api/v1/clients/{id}/keys", new { expiresAt = "9999-12-30T23:59:59Z" });
        await accepted.ShouldBeAsync(HttpStatusCode.Created);
        var keys = (await app.Client().GetJsonAsync($"/api/v1/clients/{id}"))["keys"]!.AsArray();
        Assert.Contains(keys, k => k!["expiresAt"]?.GetValue<string>() == "9999-12-30T23:59:59Z");
    }

    [Fact]
    public async Task A_key_is_shown_once_listed_by_prefix_and_rotation_keeps_two_live_keys()
    {
        var (id, first) = await AdminCreatesAsync("rotating-system", [Scopes.Read]);
        using var issued = await app.Client().PostJsonAsync($"/api/v1/clients/{id}/keys", new { });
        var second = (await issued.ShouldBeAsync(HttpStatusCode.Created))["key"]!.GetValue<string>();
        Assert.NotEqual(first, second);

        var listed = (await app.Client().GetJsonAsync($"/api/v1/clients/{id}")).ToJsonString();
        Assert.DoesNotContain(first, listed);
        Assert.DoesNotContain(second, listed);
        Assert.Contains(first.Substring(4, 8), listed);
        Assert.Equal(0L,
            await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE after::text LIKE '%' || @secret || '%'", new { secret = first[13..] }));

        foreach (var key in new[] { first, second })
        {
            using var ok = await app.ClientWith(key).GetAsync("/api/v1/units", Ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var revoke = await app.Client().DeleteAsync($"/api/v1/clients/{id}/keys/{first.Substring(4, 8)}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        using var old = await app.ClientWith(first).GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        using var current = await app.ClientWith(second).GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);

        using var revokeClient = await app.Client().PostAsync($"/api/v1/clients/{id}/revoke", null, Ct);
        Assert.Equal(HttpStatusCode.OK, revokeClient.StatusCode);
        using var gone = await app.ClientWith(second).GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, gone.StatusCode);
    }

    [Fact]
    public async Task Invalid_clients_are_refused()
    {
        // A scope is one of the ClientScope values, read as every other enum in a body is.
        using var scope = await app.Client().PostJsonAsync("/api/v1/clients", new { name = "bad-scope", scopes = new[] { "superuser" } });
        await scope.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        using var unit = await app.Client()
            .PostJsonAsync("/api/v1/clients", new { name = "bad-unit", scopes = new[] { "read" }, units = new[] { "999999" } });
        await unit.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        using var name = await app.Client().PostJsonAsync("/api/v1/clients", new { name = "空 格", scopes = new[] { "read" } });
        await name.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task The_journal_names_the_client_that_made_the_change()
    {
        var (_, key) = await AdminCreatesAsync("haikou-writer", [Scopes.Write, Scopes.Read]);
        using var created = await app.ClientWith(key).PostJsonAsync("/api/v1/rounds", new
        {
            code = "R-JOURNAL", name = "测试轮次", inspectedUnit = "HNMZT", inspectionBody = "第六巡视组", inspectionStart = "2024-09-01",
                inspectionEnd = "2024-12-31", state = "rectifying",
        });
        await created.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal("haikou-writer", await app.ScalarAsync<string>("SELECT actor FROM journal WHERE entity = 'round' AND entity_id = 'R-JOURNAL'"));
    }

    [Fact]
    public async Task A_county_system_pushes_only_for_its_region_and_the_units_below_it()
    {
        var (_, key) = await AdminCreatesAsync("haikou-push", [Scopes.Push], ["460100"]);
        var indicator =
            await app.ScalarAsync<string>("SELECT code FROM indicators WHERE value_type <> 'ratio' AND frequency = 'monthly' ORDER BY id LIMIT 1");
        var csv = $"indicator,unit,period,value,comment\n{indicator},460100,2031-01,1,\n{indicator},460105,2031-01,2,\n" +
            $"{indicator},460200,2031-01,3,\n";
        using var content = new StringContent(csv, Encoding.UTF8, "text/csv");
        using var push = await app.ClientWith(key).PostAsync("/api/v1/data-values/import?atomic=false", content, Ct);
        var summary = await push.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal(2, summary["inserted"]!.GetValue<int>());
        var error = Assert.Single(summary["errors"]!.AsArray())!;
        Assert.Equal(4, error["row"]!.GetValue<int>());
        Assert.Equal("unit", error["field"]!.GetValue<string>());
        Assert.Contains("460200", error["message"]!.GetValue<string>());
        Assert.Equal("haikou-push", await app.ScalarAsync<string>("SELECT DISTINCT source FROM data_values WHERE period = '2031-01'"));
    }

    [Fact]
    public async Task A_measure_owned_by_another_unit_cannot_be_changed()
    {
        var (_, key) = await AdminCreatesAsync("sanya-writer", [Scopes.Write, Scopes.Read], ["460200"]);
        var measure =
            await app.ScalarAsync<long>("SELECT id FROM measures WHERE owner_unit_code NOT LIKE '4602%' AND state IN ('planned', 'in_progress') " +
            "ORDER BY id LIMIT 1");
        using var read = await app.Client().GetAsync($"/api/v1/measures/{measure}", Ct);
        var body = await read.ShouldBeAsync(HttpStatusCode.OK);
        using var progress = await app.ClientWith(key)
            .PostJsonAsync($"/api/v1/measures/{measure}/progress", new { reportedOn = "2025-06-15", percent = 99, note = "越权" });
        var problem = await progress.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains(body["ownerUnit"]!.GetValue<string>(), problem["detail"]!.GetValue<string>());
        Assert.Equal(body["progress"]!.GetValue<decimal>(),
            await app.ScalarAsync<decimal>("SELECT progress FROM measures WHERE id = @measure", new { measure }));
    }

    [Fact]
    public async Task An_admin_cannot_revoke_its_own_key_or_client()
    {
        // An admin of its own, so that a broken guard cannot revoke the key the other tests here use.
        var adminKey = await app.CreateClientAsync(Seed.Unique("self-admin"), Scopes.All);
        var admin = app.ClientWith(adminKey);
        var prefix = adminKey.Substring(4, 8);
        var self = await app.ScalarAsync<long>("SELECT client_id FROM api_keys WHERE prefix = @prefix", new { prefix });
        using var key = await admin.DeleteAsync($"/api/v1/clients/{self}/keys/{prefix}", Ct);
        await key.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        using var client = await admin.PostAsync($"/api/v1/clients/{self}/revoke", null, Ct);
        await client.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        using var still = await admin.GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }
}
