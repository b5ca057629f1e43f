using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>
/// Every operation of the live OpenAPI document declares one scope, and refuses a missing, unknown, revoked or
/// expired key (401 with WWW-Authenticate) and a valid key without that scope (403 naming it), as problems.
/// </summary>
public sealed class EndpointAccessTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    async Task<List<(string Method, string Path, string Scope)>> OperationsAsync()
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var operations = new List<(string, string, string)>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject().Where(o => Methods.Contains(o.Key)))
            {
                if (path.StartsWith("/health", StringComparison.Ordinal)) continue;
                var security = operation!["security"]?.AsArray();
                Assert.True(security is { Count: 1 }, $"{method.ToUpperInvariant()} {path} declares no scope");
                var scopes = security![0]!.AsObject().Single().Value!.AsArray().Select(s => s!.GetValue<string>()).ToList();
                operations.Add((method, Concrete(path), Assert.Single(scopes)));
            }
        }
        Assert.True(operations.Count >= 25, $"only {operations.Count} operations");
        return operations;
    }

    static string Concrete(string path)
        => path.Replace("{id}", "1").Replace("{code}", "X").Replace("{prefix}", "abcdefgh").Replace("{deliveryId}", "1").Replace("{signOffId}", "1")
            .Replace("{evidenceId}", "1").Replace("{version}", "1").Replace("{round}", "X").Replace("{period}", "2025-05");

    static HttpRequestMessage Request(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), path);
        if (method is "post" or "put") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        return request;
    }

    async Task ExpectAsync(HttpClient client, string method, string path, HttpStatusCode status, string type, string? detailContains = null)
    {
        using var response = await client.SendAsync(Request(method, path), Ct);
        var problem = await response.ShouldBeProblemAsync(status, type);
        if (status == HttpStatusCode.Unauthorized) Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        if (detailContains is not null) Assert.Contains(detailContains, problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_a_key_every_operation_is_401_and_the_health_endpoints_stay_open()
    {
        var anonymous = app.ClientWith(null);
        foreach (var (method, path, _) in await OperationsAsync()) await ExpectAsync(anonymous, method, path, HttpStatusCode.Unauthorized, "unauthorized");
        using var live = await anonymous.GetAsync("/health/live", Ct);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var document = await anonymous.GetAsync("/openapi/v1.json", Ct);
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
    }

    [Fact]
    public async Task Unknown_malformed_revoked_and_expired_keys_are_401()
    {
        var revoked = await app.CreateClientAsync("revoked-system", Scopes.All);
        await app.ScalarAsync<int>("UPDATE api_keys SET revoked_at = now() WHERE prefix = @prefix RETURNING 1", new { prefix = revoked.Substring(4, 8) });
        var expired = await app.CreateClientAsync("expired-system", Scopes.All, expiresAt: RectifyApp.Start.UtcDateTime.AddMinutes(-1));
        var (unknown, _, _) = ApiKeys.Generate();
        var operations = await OperationsAsync();
        foreach (var key in new[] { unknown, "not-a-key", revoked, expired, app.ApiKey[..^1] + (app.ApiKey[^1] == 'A' ? 'B' : 'A') })
        {
            var client = app.ClientWith(key);
            foreach (var (method, path, _) in operations.Take(6)) await ExpectAsync(client, method, path, HttpStatusCode.Unauthorized, "unauthorized");
        }
    }

    [Fact]
    public async Task A_key_without_the_scope_is_403_naming_it_on_every_operation()
    {
        foreach (var (method, path, scope) in await OperationsAsync())
        {
            var others = Scopes.All.Where(s => s != scope).ToArray();
            var key = await app.CreateClientAsync($"lacks-{scope}-{Guid.NewGuid():N}"[..40], others);
            await ExpectAsync(app.ClientWith(key), method, path, HttpStatusCode.Forbidden, "forbidden", $"'{scope}'");
        }
    }

    [Fact]
    public async Task The_key_is_accepted_as_bearer_and_as_x_api_key()
    {
        var key = await app.CreateClientAsync("reader-system", [Scopes.Read]);
        using var bearer = await app.ClientWith(key).GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        using var header = await app.ClientWith(key, asHeader: true).GetAsync("/api/v1/units", Ct);
        Assert.Equal(HttpStatusCode.OK, header.StatusCode);
    }

    [Fact]
    public async Task Answers_carry_api_security_headers_and_cors_is_closed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/units");
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Add("Access-Control-Request-Method", "GET");
        using var preflight = await app.Client().SendAsync(request, Ct);
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));

        using var response = await app.Client().GetAsync("/api/v1/units", Ct);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task The_document_describes_the_bearer_scheme()
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var scheme = document["components"]!["securitySchemes"]!["ApiKey"]!;
        Assert.Equal("http", scheme["type"]!.GetValue<string>());
        Assert.Equal("bearer", scheme["scheme"]!.GetValue<string>());
        Assert.Contains("Requires scope `push`.", document["paths"]!["/api/v1/data-values/import"]!["post"]!["description"]!.GetValue<string>());
        Assert.NotNull(document["paths"]!["/api/v1/units"]!["get"]!["responses"]!["401"]);
        Assert.NotNull(document["paths"]!["/api/v1/units"]!["get"]!["responses"]!["403"]);
    }
}
