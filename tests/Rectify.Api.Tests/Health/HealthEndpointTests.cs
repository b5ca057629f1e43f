using System.Net;
using Rectify.Api.Tests.Faults;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Health;

/// <summary>
/// <c>/health/live</c> and <c>/health/ready</c> of a running service: unauthenticated, JSON, naming the checks and
/// their status only — no connection string, host, port, database name or error text.
/// </summary>
public sealed class HealthEndpointTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A client without the API key: load balancers and orchestrators have none.</summary>
    HttpClient Anonymous()
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    [Fact]
    public async Task Live_answers_200_healthy_without_a_key()
    {
        using var client = Anonymous();
        using var response = await client.GetAsync("/health/live", Ct);
        var body = await response.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("healthy", body["status"]!.GetValue<string>());
        FaultApi.RevealsNothing(body, app.ConnectionString);
    }

    [Fact]
    public async Task Ready_answers_200_with_the_database_migrations_and_circuit_checks_healthy_without_a_key()
    {
        using var client = Anonymous();
        using var response = await client.GetAsync("/health/ready", Ct);
        var body = await response.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("healthy", body["status"]!.GetValue<string>());
        var checks = body["checks"]!.AsObject().ToDictionary(c => c.Key, c => c.Value!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string> { ["database"] = "healthy", ["migrations"] = "healthy", ["circuit"] = "healthy" }, checks);
        FaultApi.RevealsNothing(body, app.ConnectionString);
    }
}
