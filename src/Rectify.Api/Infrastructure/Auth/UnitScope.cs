using Dapper;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Auth;

/// <summary>
/// The units a client may write for (its units and everything below them), checked inside the unit of work that
/// writes, so that no endpoint can forget it.
/// </summary>
public static class UnitScope
{
    /// <summary>403 unless <paramref name="unit"/> is one of the caller's units or below one.</summary>
    public static async Task EnsureMayWriteAsync(Tx tx, Caller caller, string unit, string what, CancellationToken ct)
    {
        if (caller.Units is not { } allowed) return;
        if (!await tx.QuerySingleAsync<bool>(WithinSql, new { unit, allowed = allowed.ToArray() }, ct))
            throw Problem.Forbidden($"{what} belongs to unit '{unit}', outside the units this client may write for ({string.Join(", ", allowed)}).");
    }

    /// <summary>Every unit the caller may write for, or null when it may write for all.</summary>
    public static async Task<HashSet<string>?> WritableUnitsAsync(System.Data.IDbConnection connection, Caller caller, CancellationToken ct)
        => caller.Units is not { } allowed ? null
            : (await connection.QueryAsync<string>(new CommandDefinition(SubtreeSql, new { allowed = allowed.ToArray() }, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);

    const string WithinSql = """
        WITH RECURSIVE up AS (
            SELECT code, parent_code FROM units WHERE code = @unit
            UNION ALL
            SELECT u.code, u.parent_code FROM units u JOIN up ON u.code = up.parent_code
        )
        SELECT EXISTS (SELECT 1 FROM up WHERE code = ANY (@allowed))
        """;

    const string SubtreeSql = """
        WITH RECURSIVE down AS (
            SELECT code FROM units WHERE code = ANY (@allowed)
            UNION
            SELECT u.code FROM units u JOIN down d ON u.parent_code = d.code
        )
        SELECT code FROM down
        """;
}
