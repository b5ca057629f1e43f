using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Changes;

/// <summary>
/// Following the change feed: the cursor and types are checked, a cursor older than the retention is refused (the
/// consumer resynchronises), and a client whose reads are limited to units reads its units' changes (clients: admins only).
/// </summary>
public sealed class ChangeUseCases(ChangeRepository changes, Caller caller)
{
    public async Task<ChangePage> ReadAsync(ChangeFeedQuery query, CancellationToken ct)
    {
        var after = query.After is null ? FeedPosition.Start
            : FeedPosition.Parse(query.After)
              ?? throw Refuse.Invalid("after", "The cursor is not one this service issued: use nextCursor from a previous page.");
        var types = ParseTypes(query.Types);
        var limit = query.EffectiveLimit;
        var (prunedBelow, generation, rows) = await changes.ReadAsync(after, types, limit + 1, caller.ReadableUnits, caller.Holds(Scopes.Admin), ct);
        // Expired: entries after the cursor may have been pruned since it was issued. A cursor below the horizon issued
        // under the current generation came from reading what pruning kept, and nothing was removed since.
        if (query.After is not null && after.Xid <= prunedBelow && after.Generation != generation) throw CursorExpired();
        var items = rows.Take(limit).ToList();
        var next = (items.Count == 0 ? after : items[^1].Position) with { Generation = generation };
        return new ChangePage(items.Select(r => r.ToResponse()).ToList(), next.Encode(), rows.Count > limit);
    }

    static string[]? ParseTypes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var names = Enum.GetValues<ChangeEntity>().Select(EnumText.Format).ToArray();
        var asked = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return asked.All(names.Contains) ? asked : throw Refuse.Invalid("types", $"Use a comma-separated list of: {string.Join(", ", names)}.");
    }

    static Refusal CursorExpired() => new(RefusalKind.Gone, ProblemTypes.CursorExpired, "Cursor too old",
        "Changes after this cursor were pruned (see the retention in the README). Resynchronise: read the feed again from the start, without after.");
}
