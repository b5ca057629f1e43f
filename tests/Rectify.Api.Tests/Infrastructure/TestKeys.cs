using Dapper;
using Npgsql;
using Rectify.Api.Infrastructure.Auth;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>API keys for tests that run the service outside <see cref="RectifyApp"/> (a cluster of their own, a child process).</summary>
public static class TestKeys
{
    /// <summary>
    /// A new calling system with every scope and a key, straight in the (migrated) database as an admin would create it;
    /// the key.
    /// </summary>
    public static async Task<string> CreateAsync(string connectionString, CancellationToken ct)
    {
        var (key, prefix, hash) = ApiKeys.Generate();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            WITH c AS (INSERT INTO clients (name, scopes, created_at) VALUES (@name, @scopes, now()) RETURNING id)
            INSERT INTO api_keys (client_id, prefix, key_hash, created_at) SELECT id, @prefix, @hash, now() FROM c
            """, new { name = Seed.Unique("fault-tests"), scopes = Scopes.All, prefix, hash }, cancellationToken: ct));
        return key;
    }
}
