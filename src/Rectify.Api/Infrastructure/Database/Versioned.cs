using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>A row with an optimistic-concurrency version (its ETag).</summary>
public interface IVersionedRow
{
    int Version { get; }
}

public static class Versioned
{
    /// <summary>
    /// Reads and locks the row to change (<paramref name="lockSql"/> ends in <c>FOR UPDATE</c>) and checks the
    /// version the caller expects: 404 when it does not exist, 412 when it changed since the caller read it.
    /// </summary>
    public static async Task<TRow> LockAsync<TRow>(Tx tx, string lockSql, object args, int? expectedVersion, Text what, object key, CancellationToken ct)
        where TRow : IVersionedRow
    {
        var row = await tx.QuerySingleOrDefaultAsync<TRow>(lockSql, args, ct) ?? throw Refuse.NotFound(what, key);
        if (expectedVersion is { } expected && row.Version != expected) throw Refuse.Stale();
        return row;
    }
}
