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
    /// <summary>
    /// 403 unless <paramref name="unit"/> is one of the caller's units or below one. For a client limited to units, a
    /// thing of no unit (null) is outside them: no unit of theirs holds it.
    /// </summary>
    public static async Task EnsureMayWriteAsync(Tx tx, Caller caller, string? unit, string what, CancellationToken ct)
    {
        if (caller.Units is not { } allowed) return;
        if (unit is null)
            throw Refuse.Forbidden($"{what} belongs to no unit, and this client may write only for its units ({string.Join(", ", allowed)}).");
        if ((await OutsideAsync(tx, caller, [unit], ct)).Count > 0)
            throw Refuse.Forbidden($"{what} belongs to unit '{unit}', outside the units this client may write for ({string.Join(", ", allowed)}).");
    }

    /// <summary>Those of <paramref name="units"/> that are neither one of the caller's units nor below one, in the order given (none for an unlimited
    /// caller).</summary>
    public static async Task<IReadOnlyList<string>> OutsideAsync(Tx tx, Caller caller, IEnumerable<string> units, CancellationToken ct)
        => caller.Units is not { } allowed ? []
            : (await tx.QueryAsync<string>(OutsideSql, new { units = units.ToArray(), allowed = allowed.ToArray() }, ct)).AsList();

    /// <summary>Every unit the caller may write for, or null when it may write for all.</summary>
    public static async Task<HashSet<string>?> WritableUnitsAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction? transaction,
        Caller caller, CancellationToken ct)
        => caller.Units is not { } allowed ? null
            : (await connection.QueryAsync<string>(new CommandDefinition(SubtreeSql, new { allowed = allowed.ToArray() }, transaction,
                cancellationToken: ct)))
                .ToHashSet(StringComparer.Ordinal);

    const string OutsideSql = """
        SELECT u.code FROM unnest(@units::text[]) WITH ORDINALITY AS u (code, position)
        WHERE u.code NOT IN (SELECT units_under(@allowed))
        ORDER BY u.position
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
