using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>Scopes are a named set of values (ClientScope) in the document, in requests and in answers; another value is refused.</summary>
public sealed class ClientScopeTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static readonly string[] Scopes = ["read", "write", "push", "review", "admin"];

    [Fact]
    public async Task The_document_names_the_scopes_in_the_create_request_and_the_client()
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var schemas = document["components"]!["schemas"]!;
        Assert.Equal(Scopes, schemas["ClientScope"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        foreach (var schema in new[] { "CreateClientRequest", "ClientResponse" })
            Assert.Equal("#/components/schemas/ClientScope", schemas[schema]!["properties"]!["scopes"]!["items"]!["$ref"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_client_with_a_scope_that_is_not_one_is_refused_and_not_created()
    {
        var name = Seed.Unique("superuser-client");
        using var client = app.Client();
        using var response = await client.PostJsonAsync("/api/v1/clients", new { name, scopes = new[] { "read", "superuser" } });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var message = Assert.Single(problem["errors"]!.AsObject()).Value![0]!.GetValue<string>();
        Assert.Equal("Use one of: read, write, push, review, admin.", message);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM clients WHERE name = @name", new { name }));
    }

    [Fact]
    public async Task The_answer_carries_the_scopes_as_sent()
    {
        using var client = app.Client();
        using var response =
            await client.PostJsonAsync("/api/v1/clients", new { name = Seed.Unique("pusher"), scopes = new[] { "push", "read", "push" } });
        var created = await response.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(["push", "read"], created["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }
}
