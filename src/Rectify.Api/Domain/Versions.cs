namespace Rectify.Api.Domain;

/// <summary>A row with an optimistic-concurrency version (its ETag).</summary>
public interface IVersionedRow
{
    int Version { get; }
}

/// <summary>
/// Optimistic concurrency as a rule of the use cases: the row must be there, at the version the caller read. The one
/// place of this rule: repositories lock and return the row (or null), the use case expects it here.
/// </summary>
public static class Versions
{
    /// <summary>
    /// <paramref name="row"/> (just read, usually locked) when it exists and carries <paramref name="expectedVersion"/>
    /// (any version when null): otherwise 404 naming <paramref name="what"/> and <paramref name="key"/>, or 412.
    /// </summary>
    public static TRow Expect<TRow>(TRow? row, int? expectedVersion, Text what, object key) where TRow : class, IVersionedRow
    {
        if (row is null) throw Refuse.NotFound(what, key);
        if (expectedVersion is { } expected && row.Version != expected) throw Refuse.Stale();
        return row;
    }
}
