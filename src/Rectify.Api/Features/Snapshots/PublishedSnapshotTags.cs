using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure;

namespace Rectify.Api.Features.Snapshots;

/// <summary>
/// The ETags of published snapshot revisions this node has served, so that a revalidation (If-None-Match with the tag)
/// is answered 304 without touching the database.
/// <list type="bullet">
/// <item>A revision asked for by number (<c>?revision=N</c>): kept without any invalidation. A published revision never
/// changes and is never removed (the <c>snapshots_frozen</c> trigger refuses both, and a correction is a new revision),
/// and a round's code never changes.</item>
/// <item>A month's latest revision (no <c>?revision</c>) when it is published: it stays the latest until a push makes a
/// correction (a new draft revision). Kept for <see cref="SnapshotOptions.LatestTagLifetime"/> (5 s by default) and
/// forgotten at once when this node pushes to the month, so a correction made through another node is seen within that
/// bound — well inside the <c>max-age=300</c> the answer already allows any cache.</item>
/// </list>
/// Bounded: when full, expired latest tags are dropped; if nothing can be, nothing more is remembered and requests read
/// the database as before.
/// </summary>
public sealed class PublishedSnapshotTags(Clock clock, IOptions<SnapshotOptions> options)
{
    public const int Capacity = 100_000;

    readonly ConcurrentDictionary<(string Round, Period Month, int Revision), string> _tags = new();
    readonly ConcurrentDictionary<(string Round, Period Month), Latest> _latest = new();

    TimeSpan LatestLifetime => options.Value.LatestTagLifetime;

    public string? Find(string round, Period month, int revision) => _tags.GetValueOrDefault((round, month, revision));

    /// <summary>The tag of the month's latest revision, published, as served less than the lifetime ago; or null.</summary>
    public string? FindLatest(string round, Period month)
        => _latest.TryGetValue((round, month), out var latest) && latest.Until > clock.UtcNow ? latest.Tag : null;

    /// <summary>
    /// Remembers the tag of a revision just read, if it is published; as the month's latest too when it was read as the
    /// latest of every revision (<paramref name="latestOfAll"/>: no revision asked for, by a caller who sees drafts).
    /// </summary>
    public void Remember(string round, SnapshotResponse snapshot, string tag, bool latestOfAll)
    {
        if (Period.TryParse(snapshot.Period) is { } month) Remember(round, month, snapshot.Revision, snapshot.Status, tag, latestOfAll);
    }

    /// <inheritdoc cref="Remember(string, SnapshotResponse, string, bool)"/>
    public void Remember(string round, Period month, int revision, SnapshotStatus status, string tag, bool latestOfAll)
    {
        if (status != SnapshotStatus.Published) return;
        if (_tags.Count < Capacity) _tags.TryAdd((round, month, revision), tag);
        if (!latestOfAll || LatestLifetime <= TimeSpan.Zero) return;
        var now = clock.UtcNow;
        if (_latest.Count >= Capacity)
        {
            foreach (var (key, entry) in _latest)
            {
                if (entry.Until <= now) _latest.TryRemove(key, out _);
            }
            if (_latest.Count >= Capacity) return;
        }
        _latest[(round, month)] = new Latest(tag, now + LatestLifetime);
    }

    /// <summary>Forgets the month's latest tag: this node is changing the month (a push may make a correction).</summary>
    public void ForgetLatest(string round, Period month) => _latest.TryRemove((round, month), out _);

    sealed record Latest(string Tag, DateTime Until);
}
