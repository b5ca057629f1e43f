using Dapper;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Clients;

/// <summary>Clients and their keys in SQL. Keys are stored as hashes; the rules are <see cref="ClientUseCases"/>'.</summary>
public sealed class ClientRepository(Db db)
{
    public Task<Page<ClientResponse>> ListAsync(ClientListQuery query, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
        {
            var rows = (await connection.QueryAsync<ClientRow>(new CommandDefinition(ListSql,
                new { after = query.After, limit = query.EffectiveLimit + 1 }, cancellationToken: token))).AsList();
            var keys = await KeysAsync(connection, rows.Select(r => r.Id).ToArray(), token);
            return Cursors.ToPage(rows, query.EffectiveLimit, r => r.Id, r => r.ToResponse(keys[r.Id]));
        }, ct);

    public Task<ClientResponse?> FindAsync(long id, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<ClientRow>(new CommandDefinition(FindSql, new { id }, cancellationToken: token)) is { } row
                ? row.ToResponse((await KeysAsync(connection, [id], token))[id])
                : null, ct);

    static async Task<ILookup<long, KeyResponse>> KeysAsync(System.Data.IDbConnection connection, long[] clientIds, CancellationToken ct)
        => (await connection.QueryAsync<(long ClientId, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt,
            DateTime? RevokedAt)>(new CommandDefinition(
                "SELECT client_id, prefix, created_at, expires_at, revoked_at FROM api_keys WHERE client_id = ANY (@clientIds) ORDER BY id",
                new { clientIds }, cancellationToken: ct)))
            .ToLookup(k => k.ClientId, k => new KeyResponse(k.Prefix, k.CreatedAt, k.ExpiresAt, k.RevokedAt));

    /// <summary>Whether any client exists (the development key is created on an empty table only).</summary>
    public Task<bool> AnyAsync(Tx tx, CancellationToken ct) => tx.QuerySingleAsync<bool>("SELECT EXISTS (SELECT 1 FROM clients)", null, ct);

    /// <summary>The codes of <paramref name="units"/> that name no unit.</summary>
    public async Task<IReadOnlyList<string>> MissingUnitsAsync(Tx tx, IReadOnlyList<string> units, CancellationToken ct)
        => (await tx.QueryAsync<string>("SELECT u FROM unnest(@units::text[]) u WHERE NOT EXISTS (SELECT 1 FROM units WHERE code = u)",
            new { units = units.ToArray() }, ct)).ToList();

    public async Task<ClientResponse> InsertAsync(Tx tx, string name, string? contact, string[] scopes, string[]? units, DateTime now,
        CancellationToken ct)
    {
        var id = await tx.QuerySingleAsync<long>(InsertSql, new { name, contact, scopes, units, now }, ct);
        return (await tx.QuerySingleAsync<ClientRow>(FindSql, new { id }, ct)).ToResponse([]);
    }

    /// <summary>The client, locked for the rest of the transaction; null when there is none.</summary>
    internal Task<ClientRow?> LockAsync(Tx tx, long clientId, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<ClientRow>(FindSql + " FOR UPDATE OF c", new { id = clientId }, ct);

    public Task InsertKeyAsync(Tx tx, long clientId, string prefix, byte[] hash, DateTime now, DateTime? expiresAt, CancellationToken ct)
        => tx.ExecuteAsync(InsertKeySql, new { clientId, prefix, hash, now, expiresAt }, ct);

    /// <summary>Revokes the client's live key of <paramref name="prefix"/>; the number revoked (0 or 1).</summary>
    public Task<int> RevokeKeyAsync(Tx tx, long clientId, string prefix, DateTime now, CancellationToken ct)
        => tx.ExecuteAsync("UPDATE api_keys SET revoked_at = @now WHERE client_id = @clientId AND prefix = @prefix AND revoked_at IS NULL",
            new { clientId, prefix, now }, ct);

    /// <summary>Revokes the client (a revoked one keeps its first revocation time) and returns it as it is now.</summary>
    public async Task<ClientResponse> RevokeAsync(Tx tx, long clientId, DateTime now, CancellationToken ct)
    {
        await tx.ExecuteAsync("UPDATE clients SET revoked_at = coalesce(revoked_at, @now) WHERE id = @clientId", new { clientId, now }, ct);
        return (await tx.QuerySingleAsync<ClientRow>(FindSql, new { id = clientId }, ct)).ToResponse([]);
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
