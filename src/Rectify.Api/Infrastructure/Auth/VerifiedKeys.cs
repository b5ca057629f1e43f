using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Rectify.Api.Infrastructure.Auth;

/// <summary>
/// API keys this node verified against the database in the last <see cref="AccessOptions.VerifiedKeyLifetime"/>
/// (5 s by default), found by the SHA-256 of the presented key, so that a burst of requests with one key costs one
/// database lookup instead of one each. That lifetime is the revocation bound: a key revoked (or a client revoked)
/// anywhere is refused by every node at most that long afterwards, and at once by the node that revoked it. Expiry
/// is checked on every request against the stored instant, so an expired key is refused on time.
/// </summary>
/// <remarks>
/// Nothing here is the only copy of anything: an entry is a copy of a database row that is thrown away after the
/// lifetime. The dictionary is bounded; when it is full, expired entries are dropped and, if none are, new keys are
/// verified without being remembered.
/// </remarks>
public sealed class VerifiedKeys(Clock clock, IOptions<AccessOptions> options)
{
    public const int Capacity = 10_000;

    readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    TimeSpan Lifetime => options.Value.VerifiedKeyLifetime;

    /// <summary>The key's row as verified less than the lifetime ago, or null.</summary>
    public StoredKey? Find(byte[] hash)
    {
        if (Lifetime <= TimeSpan.Zero || !_entries.TryGetValue(Convert.ToBase64String(hash), out var entry)) return null;
        return entry.VerifiedUntil > clock.UtcNow ? entry.Key : null;
    }

    /// <summary>Remembers a key that was just found valid in the database.</summary>
    public void Remember(byte[] hash, StoredKey key)
    {
        if (Lifetime <= TimeSpan.Zero) return;
        var now = clock.UtcNow;
        if (_entries.Count >= Capacity)
        {
            foreach (var (id, entry) in _entries)
            {
                if (entry.VerifiedUntil <= now) _entries.TryRemove(id, out _);
            }
            if (_entries.Count >= Capacity) return;
        }
        _entries[Convert.ToBase64String(hash)] = new Entry(key, now + Lifetime);
    }

    /// <summary>Forgets one key (revoked on this node), so that this node refuses it at once.</summary>
    public void ForgetKey(string prefix) => Forget(key => key.Prefix == prefix);

    /// <summary>Forgets every key of a client (revoked on this node).</summary>
    public void ForgetClient(long clientId) => Forget(key => key.ClientId == clientId);

    void Forget(Func<StoredKey, bool> which)
    {
        foreach (var (id, entry) in _entries)
        {
            if (which(entry.Key)) _entries.TryRemove(id, out _);
        }
    }

    sealed record Entry(StoredKey Key, DateTime VerifiedUntil);

    /// <summary>An API key's row with its client's, as the authentication reads it.</summary>
    public sealed class StoredKey
    {
        public long ClientId { get; init; }
        public string Name { get; init; } = "";
        public string Prefix { get; init; } = "";
        public string[] Scopes { get; init; } = [];
        public string[]? Units { get; init; }
        public byte[] KeyHash { get; init; } = [];
        public DateTime? ExpiresAt { get; init; }
        public DateTime? RevokedAt { get; init; }
        public DateTime? ClientRevokedAt { get; init; }
    }
}
