using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Clients;

/// <summary>
/// Administration of clients and keys: an admin limited to units grants and manages only what it holds, a caller
/// cannot lock itself out, and every change is journalled (key prefixes, never keys).
/// </summary>
public sealed class ClientUseCases(Db db, ClientRepository clients, Journal.JournalWriter journal, Clock clock, Caller caller)
{
    public Task<Page<ClientResponse>> ListAsync(ClientListQuery query, CancellationToken ct) => clients.ListAsync(query, ct);

    public async Task<ClientResponse> GetAsync(long id, CancellationToken ct)
        => await clients.FindAsync(id, ct) ?? throw Refuse.NotFound("client", id);

    /// <summary>Creates a client on <paramref name="tx"/> (the caller's idempotent create or the command line runs it).</summary>
    public async Task<ClientResponse> CreateAsync(Tx tx, CreateClientRequest request, CancellationToken ct)
    {
        if (request.Units is { } units && await clients.MissingUnitsAsync(tx, units, ct) is { Count: > 0 } missing)
            throw Refuse.DoesNotFit("units", $"No unit {string.Join(", ", missing.Select(m => $"'{m}'"))} exists.");
        await EnsureWithinOwnRightsAsync(tx, [.. request.Scopes.Select(EnumText.Format)], request.Units, "The new client would hold", ct);
        var created = await clients.InsertAsync(tx, request.Name, request.Contact, request.Scopes.Distinct().Select(EnumText.Format).ToArray(),
            request.Units?.Distinct().ToArray(), clock.UtcNow, ct);
        await journal.RecordAsync(tx, "client", created.Id, "create", null, created, ct);
        return created;
    }

    /// <summary>Issues a key in a transaction of its own.</summary>
    public Task<IssuedKeyResponse> IssueKeyAsync(long clientId, DateTime? expiresAt, CancellationToken ct)
        => db.WriteAsync((tx, token) => IssueKeyAsync(tx, clientId, expiresAt, token), ct);

    static readonly DateTime LatestExpiry = new(9999, 12, 31, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Issues a key (a client may hold several live keys, for rotation).</summary>
    public async Task<IssuedKeyResponse> IssueKeyAsync(Tx tx, long clientId, DateTime? expiresAt, CancellationToken ct)
    {
        var client = await LockManagedAsync(tx, clientId, ct);
        if (client.RevokedAt is not null) throw Refuse.Conflict($"Client '{client.Name}' is revoked: it gets no new keys.");
        if (expiresAt is { } expires && expires.ToUniversalTime() <= clock.UtcNow) throw Refuse.Invalid("expiresAt",
            "expiresAt must be in the future.");
        // The database keeps microseconds: the last instant of year 9999 would round past the range an instant is read back in.
        if (expiresAt is { } far && far.ToUniversalTime() >= LatestExpiry) throw Refuse.Invalid("expiresAt", "expiresAt must be before 9999-12-31.");
        var (key, prefix, hash) = ApiKeys.Generate();
        await clients.InsertKeyAsync(tx, clientId, prefix, hash, clock.UtcNow, expiresAt?.ToUniversalTime(), ct);
        await journal.RecordAsync(tx, "client", clientId, "issue-key", null, new { prefix, expiresAt }, ct);
        return new IssuedKeyResponse(client.Name, prefix, key, expiresAt?.ToUniversalTime());
    }

    /// <summary>The development admin client and its key, on an empty clients table only; null when there are clients.</summary>
    public Task<IssuedKeyResponse?> CreateFirstAdminAsync(CreateClientRequest request, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            if (await clients.AnyAsync(tx, token)) return null;
            var client = await CreateAsync(tx, request, token);
            return (IssuedKeyResponse?)await IssueKeyAsync(tx, client.Id, null, token);
        }, ct);

    public Task RevokeKeyAsync(long clientId, string prefix, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            // An admin cannot lock itself out with the key it is using: revoke it with another key.
            if (prefix == caller.KeyPrefix) throw Refuse.Conflict("This is the key the request came with: revoke it using another admin key.");
            await LockManagedAsync(tx, clientId, token);
            var revoked = await clients.RevokeKeyAsync(tx, clientId, prefix, clock.UtcNow, token);
            if (revoked == 0) throw Refuse.NotFound("live key", prefix);
            await journal.RecordAsync(tx, "client", clientId, "revoke-key", new { prefix }, null, token);
            return revoked;
        }, ct);

    public Task<ClientResponse> RevokeClientAsync(long clientId, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            if (clientId == caller.ClientId) throw Refuse.Conflict("This is the client the request comes from: revoke it as another admin client.");
            var before = await LockManagedAsync(tx, clientId, token);
            var after = await clients.RevokeAsync(tx, clientId, clock.UtcNow, token);
            await journal.RecordAsync(tx, "client", clientId, "revoke", before.ToResponse([]), after, token);
            return after;
        }, ct);

    /// <summary>Locks a client this caller may manage (issue keys to, revoke): 404 when there is none, 403 when its rights go beyond the
    /// caller's.</summary>
    async Task<ClientRow> LockManagedAsync(Tx tx, long clientId, CancellationToken ct)
    {
        var client = await clients.LockAsync(tx, clientId, ct) ?? throw Refuse.NotFound("client", clientId);
        await EnsureWithinOwnRightsAsync(tx, client.Scopes, client.Units, $"Client '{client.Name}' holds", ct);
        return client;
    }

    /// <summary>
    /// An admin limited to units grants and manages only what it holds itself: scopes it has, for units within its
    /// own (a client of every unit is beyond it). An admin of every unit, and the command line, grant anything.
    /// </summary>
    async Task EnsureWithinOwnRightsAsync(Tx tx, IReadOnlyList<string> scopes, IReadOnlyList<string>? units, Text subject, CancellationToken ct)
    {
        if (caller.Units is not { } own) return;
        var beyond = new List<Text>();
        if (scopes.Where(s => !caller.Holds(s)).Distinct().ToArray() is { Length: > 0 } extra) beyond.Add($"the scope(s) {string.Join(", ", extra)}");
        if (units is not { Count: > 0 }) beyond.Add((Text)"every unit");
        else if (await UnitScope.OutsideAsync(tx, caller, units,
            ct) is { Count: > 0 } outside) beyond.Add($"the unit(s) {string.Join(", ", outside)}");
        if (beyond.Count > 0)
            throw Refuse.Forbidden(new Text("{0} {1}, beyond this admin's own rights (scopes {2}; units {3}): "
                + "an admin limited to units grants and manages only what it holds.",
                subject, Text.Join(" and ", beyond), string.Join(", ", caller.Scopes), string.Join(", ", own)));
    }
}
