using System.Collections.Concurrent;

namespace Rectify.Api.Features.Snapshots;

/// <summary>
/// The ETags of published snapshot revisions this node has served, so that a revalidation of a revision asked for by
/// number (<c>?revision=N</c> with If-None-Match) is answered 304 without touching the database. Safe without any
/// invalidation: a published revision never changes and is never removed (the <c>snapshots_frozen</c> trigger refuses
/// both, and a correction is a new revision), and a round's code never changes. Bounded: when full, nothing more is
/// remembered and requests read the database as before.
/// </summary>
public sealed class PublishedSnapshotTags
{
    public const int Capacity = 100_000;

    readonly ConcurrentDictionary<(string Round, Period Month, int Revision), string> _tags = new();

    public string? Find(string round, Period month, int revision) => _tags.GetValueOrDefault((round, month, revision));

    /// <summary>Remembers the tag of a revision just read, if it is published.</summary>
    public void Remember(string round, SnapshotResponse snapshot, string tag)
    {
        if (snapshot.Status == SnapshotStatus.Published && _tags.Count < Capacity && Period.TryParse(snapshot.Period) is { } month)
            _tags.TryAdd((round, month, snapshot.Revision), tag);
    }
}
