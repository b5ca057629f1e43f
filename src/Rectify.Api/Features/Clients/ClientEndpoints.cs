using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Clients;

/// <summary>Administration of calling systems and their keys (scope admin).</summary>
public static class ClientEndpoints
{
    public static IEndpointRouteBuilder MapClients(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/clients").WithTags("Clients");

        group.MapGet("/", List).RequireScope(Scopes.Admin)
            .WithName("ListClients")
            .WithSummary("List clients")
            .WithDescription("Calling systems with their scopes, units and keys (prefixes only).")
            .ProducesValidationProblem()
            .WithExample(response: new Page<ClientResponse>([Examples.Client], null));

        group.MapGet("/{id:long}", Get).RequireScope(Scopes.Admin)
            .WithName("GetClient")
            .WithSummary("Get a client")
            .WithDescription("One calling system with its keys (prefixes only).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithExample(response: Examples.Client);

        group.MapPost("/", Create).RequireScope(Scopes.Admin)
            .WithName("CreateClient")
            .WithSummary("Create a client")
            .WithDescription("Registers a calling system with its scopes and, optionally, the units it may write for. Issue it a key with POST " +
                "…/{id}/keys. An admin limited to units grants only what it holds: scopes it has, units within its own, and never every unit (403 " +
                "naming what goes beyond).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithExample(Examples.Create, Examples.Client with { Keys = [] });

        group.MapPost("/{id:long}/keys", IssueKey).RequireScope(Scopes.Admin).WithLocation("The client the key was issued to.")
            .WithName("IssueClientKey")
            .WithSummary("Issue an API key")
            .WithDescription("Creates a key and shows it this once; only its hash is stored. A client may hold several live keys, for rotation: " +
                "issue the new one, switch, revoke the old one. The body is optional: without one (or with {}) the key does not expire. An admin " +
                "limited to units issues keys only to clients whose scopes and units are within its own (403).")
            .Produces<IssuedKeyResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithExample(new IssueKeyRequest { ExpiresAt = new DateTime(2026, 12, 31, 16, 0, 0, DateTimeKind.Utc) }, Examples.Issued);

        group.MapDelete("/{id:long}/keys/{prefix}", RevokeKey).RequireScope(Scopes.Admin)
            .WithName("RevokeClientKey")
            .WithSummary("Revoke an API key")
            .WithDescription("The key stops working at once on the node that answers and within 5 seconds on every other node (each node trusts a " +
                "key it verified for 5 s). The key the request itself comes with cannot be revoked this way (409). An admin limited to units " +
                "revokes keys only of clients whose scopes and units are within its own (403).")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        group.MapPost("/{id:long}/revoke", Revoke).RequireScope(Scopes.Admin)
            .WithName("RevokeClient")
            .WithSummary("Revoke a client")
            .WithDescription("Every key of the client stops working at once on the node that answers and within 5 seconds on every other node; the " +
                "client stays listed, for the journal. A client cannot revoke itself (409). An admin limited to units revokes only clients whose " +
                "scopes and units are within its own (403).")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithExample(response: Examples.Client with { RevokedAt = new DateTime(2025, 11, 6, 2, 0, 0, DateTimeKind.Utc) });

        return routes;
    }

    static async Task<Ok<Page<ClientResponse>>> List([AsParameters] ClientListQuery query, ClientUseCases clients, CancellationToken ct)
        => TypedResults.Ok(await clients.ListAsync(query, ct));

    static async Task<Ok<ClientResponse>> Get(long id, ClientUseCases clients, CancellationToken ct)
        => TypedResults.Ok(await clients.GetAsync(id, ct));

    static Task<Results<Created<ClientResponse>, Replayed>> Create(CreateClientRequest request, ClientUseCases clients, IdempotentCreates creates,
        HttpContext http, CancellationToken ct)
        => creates.CreateAsync(http, request, async (tx, token) =>
        {
            var client = await clients.CreateAsync(tx, request, token);
            return new CreatedAnswer<ClientResponse>($"/api/v1/clients/{client.Id}", client);
        }, ct);

    // No Idempotency-Key here: a replay would have to store the key to show it again.
    // The body is optional: none (no Content-Type, Content-Length 0) means no options.
    static async Task<Created<IssuedKeyResponse>> IssueKey(long id, IssueKeyRequest? request, ClientUseCases clients, CancellationToken ct)
        => TypedResults.Created($"/api/v1/clients/{id}", await clients.IssueKeyAsync(id, request?.ExpiresAt, ct));

    // This node forgets the revoked keys at once; the others within the verified-key lifetime (VerifiedKeys).
    static async Task<NoContent> RevokeKey(long id, string prefix, ClientUseCases clients, VerifiedKeys verified, CancellationToken ct)
    {
        await clients.RevokeKeyAsync(id, prefix, ct);
        verified.ForgetKey(prefix);
        return TypedResults.NoContent();
    }

    static async Task<Ok<ClientResponse>> Revoke(long id, ClientUseCases clients, VerifiedKeys verified, CancellationToken ct)
    {
        var revoked = await clients.RevokeClientAsync(id, ct);
        verified.ForgetClient(id);
        return TypedResults.Ok(revoked);
    }

    static class Examples
    {
        public static readonly ClientResponse Client =
            new(3, "haikou-civil-affairs", "海口市民政局信息中心 0898-0000000", [ClientScope.Read, ClientScope.Push], ["460100"],
            new DateTime(2025, 3, 1, 1, 0, 0, DateTimeKind.Utc), null,
            [new KeyResponse("k7q2m9xa", new DateTime(2025, 3, 1, 1, 0, 0, DateTimeKind.Utc), null, null)]);

        public static readonly CreateClientRequest Create = new()
        {
            Name = Client.Name, Contact = Client.Contact, Scopes = Client.Scopes, Units = Client.Units,
        };

        public static readonly IssuedKeyResponse Issued =
            new("haikou-civil-affairs", "k7q2m9xa", "rfy_k7q2m9xa_3nq0W8yJx1lC2bq6T9uVfO4sK7dR5eA1zP0mH8gY2wE",
            new DateTime(2026, 12, 31, 16, 0, 0, DateTimeKind.Utc));
    }
}
