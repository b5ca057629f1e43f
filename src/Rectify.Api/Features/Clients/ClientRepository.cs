using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Clients;

/// <summary>Clients and their keys. Keys are shown once, when issued; the journal records prefixes, never keys.</summary>
public sealed class ClientRepository(Db db, Journal.Journal journal, Clock clock, Caller caller)
{
    public Task<Page<ClientResponse>> ListAsync(ClientListQuery query, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
        {
            var rows = (await connection.QueryAsync<ClientRow>(new CommandDefinition(ListSql, new { after = query.After, limit = query.EffectiveLimit + 1 }, cancellationToken: token))).AsList();
            var keys = await KeysAsync(connection, rows.Select(r => r.Id).ToArray(), token);
            return Cursors.ToPage(rows, query.EffectiveLimit, r => r.Id, r => r.ToResponse(keys[r.Id]));
        }, ct);

    public Task<ClientResponse?> FindAsync(long id, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<ClientRow>(new CommandDefinition(FindSql, new { id }, cancellationToken: token)) is { } row
                ? row.ToResponse((await KeysAsync(connection, [id], token))[id])
                : null, ct);

    static async Task<ILookup<long, KeyResponse>> KeysAsync(System.Data.IDbConnection connection, long[] clientIds, CancellationToken ct)
        => (await connection.QueryAsync<(long ClientId, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt)>(new CommandDefinition(
                "SELECT client_id, prefix, created_at, expires_at, revoked_at FROM api_keys WHERE client_id = ANY (@clientIds) ORDER BY id",
                new { clientIds }, cancellationToken: ct)))
            .ToLookup(k => k.ClientId, k => new KeyResponse(k.Prefix, k.CreatedAt, k.ExpiresAt, k.RevokedAt));

    public async Task<ClientResponse> CreateAsync(Tx tx, CreateClientRequest request, CancellationToken ct)
    {
        if (request.Units is { } units)
        {
            var missing = (await tx.QueryAsync<string>("SELECT u FROM unnest(@units::text[]) u WHERE NOT EXISTS (SELECT 1 FROM units WHERE code = u)",
                new { units = units.ToArray() }, ct)).ToList();
            if (missing.Count > 0) throw Refuse.DoesNotFit("units", $"No unit {string.Join(", ", missing.Select(m => $"'{m}'"))} exists.");
        }
        await EnsureWithinOwnRightsAsync(tx, [.. request.Scopes.Select(EnumText.Format)], request.Units, "The new client would hold", ct);
        var id = await tx.QuerySingleAsync<long>(InsertSql, new
        {
            request.Name, request.Contact, scopes = request.Scopes.Distinct().Select(EnumText.Format).ToArray(), units = request.Units?.Distinct().ToArray(), now = clock.UtcNow,
        }, ct);
        var created = (await tx.QuerySingleAsync<ClientRow>(FindSql, new { id }, ct)).ToResponse([]);
        await journal.RecordAsync(tx, "client", id, "create", null, created, ct);
        return created;
    }

    /// <summary>Issues a key (a client may hold several live keys, for rotation).</summary>
    public async Task<IssuedKeyResponse> IssueKeyAsync(Tx tx, long clientId, DateTime? expiresAt, CancellationToken ct)
    {
        var client = await LockManagedAsync(tx, clientId, ct);
        if (client.RevokedAt is not null) throw Refuse.Conflict($"Client '{client.Name}' is revoked: it gets no new keys.");
        if (expiresAt is { } expires && expires.ToUniversalTime() <= clock.UtcNow) throw Refuse.Invalid("expiresAt", "expiresAt must be in the future.");
        var (key, prefix, hash) = ApiKeys.Generate();
        await tx.ExecuteAsync(InsertKeySql, new { clientId, prefix, hash, now = clock.UtcNow, expiresAt = expiresAt?.ToUniversalTime() }, ct);
        await journal.RecordAsync(tx, "client", clientId, "issue-key", null, new { prefix, expiresAt }, ct);
        return new IssuedKeyResponse(client.Name, prefix, key, expiresAt?.ToUniversalTime());
    }

    public Task RevokeKeyAsync(long clientId, string prefix, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            // An admin cannot lock itself out with the key it is using: revoke it with another key.
            if (prefix == caller.KeyPrefix) throw Refuse.Conflict("This is the key the request came with: revoke it using another admin key.");
            await LockManagedAsync(tx, clientId, token);
            var revoked = await tx.ExecuteAsync("UPDATE api_keys SET revoked_at = @now WHERE client_id = @clientId AND prefix = @prefix AND revoked_at IS NULL",
                new { clientId, prefix, now = clock.UtcNow }, token);
            if (revoked == 0) throw Refuse.NotFound("live key", prefix);
            await journal.RecordAsync(tx, "client", clientId, "revoke-key", new { prefix }, null, token);
            return revoked;
        }, ct);

    public Task<ClientResponse> RevokeClientAsync(long clientId, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            if (clientId == caller.ClientId) throw Refuse.Conflict("This is the client the request comes from: revoke it as another admin client.");
            var before = await LockManagedAsync(tx, clientId, token);
            await tx.ExecuteAsync("UPDATE clients SET revoked_at = coalesce(revoked_at, @now) WHERE id = @clientId", new { clientId, now = clock.UtcNow }, token);
            var after = (await tx.QuerySingleAsync<ClientRow>(FindSql, new { id = clientId }, token)).ToResponse([]);
            await journal.RecordAsync(tx, "client", clientId, "revoke", before.ToResponse([]), after, token);
            return after;
        }, ct);

    /// <summary>Locks a client this caller may manage (issue keys to, revoke): 404 when there is none, 403 when its rights go beyond the caller's.</summary>
    async Task<ClientRow> LockManagedAsync(Tx tx, long clientId, CancellationToken ct)
    {
        var client = await tx.QuerySingleOrDefaultAsync<ClientRow>(FindSql + " FOR UPDATE OF c", new { id = clientId }, ct)
            ?? throw Refuse.NotFound("client", clientId);
        await EnsureWithinOwnRightsAsync(tx, client.Scopes, client.Units, $"Client '{client.Name}' holds", ct);
        return client;
    }

    /// <summary>
    /// An admin limited to units grants and manages only what it holds itself: scopes it has, for units within its
    /// own (a client of every unit is beyond it). An admin of every unit, and the command line, grant anything.
    /// </summary>
    async Task EnsureWithinOwnRightsAsync(Tx tx, IReadOnlyList<string> scopes, IReadOnlyList<string>? units, string subject, CancellationToken ct)
    {
        if (caller.Units is not { } own) return;
        var beyond = new List<string>();
        if (scopes.Where(s => !caller.Holds(s)).Distinct().ToArray() is { Length: > 0 } extra) beyond.Add($"the scope(s) {string.Join(", ", extra)}");
        if (units is not { Count: > 0 }) beyond.Add("every unit");
        else if (await UnitScope.OutsideAsync(tx, caller, units, ct) is { Count: > 0 } outside) beyond.Add($"the unit(s) {string.Join(", ", outside)}");
        if (beyond.Count > 0)
            throw Refuse.Forbidden($"{subject} {string.Join(" and ", beyond)}, beyond this admin's own rights (scopes {string.Join(", ", caller.Scopes)}; "
                + $"units {string.Join(", ", own)}): an admin limited to units grants and manages only what it holds.");
    }

    const string Columns = "c.id, c.name, c.contact, c.scopes, c.units, c.created_at, c.revoked_at";

    const string ListSql = $"SELECT {Columns} FROM clients c WHERE c.id > @after ORDER BY c.id LIMIT @limit";
    const string FindSql = $"SELECT {Columns} FROM clients c WHERE c.id = @id";

    const string InsertSql = """
        INSERT INTO clients (name, contact, scopes, units, created_at) VALUES (@name, @contact, @scopes, @units, @now) RETURNING id
        """;

    const string InsertKeySql = """
        INSERT INTO api_keys (client_id, prefix, key_hash, created_at, expires_at) VALUES (@clientId, @prefix, @hash, @now, @expiresAt)
        """;
}
