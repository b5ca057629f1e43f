using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Changes;

/// <summary>What the change feed reports changes of.</summary>
public enum ChangeEntity
{
    Round, Issue, Measure,
    /// <summary>A progress entry of a measure.</summary>
    Progress,
    /// <summary>An evidence entry of a measure.</summary>
    Evidence,
    Indicator,
    /// <summary>One value: indicator × unit × period (key: indicator, unit, period).</summary>
    [JsonStringEnumMemberName("data-value")] DataValue,
    Snapshot,
    /// <summary>A calling system; only admins see these.</summary>
    Client,
    /// <summary>A move of an issue's or a measure's due date (key: id, issueId or measureId).</summary>
    [JsonStringEnumMemberName("deadline-change")] DeadlineChange,
    /// <summary>A version of an evidence file, uploaded or decided (key: id, evidenceId, measureId, version; metadata only).</summary>
    [JsonStringEnumMemberName("evidence-file")] EvidenceFile,
    /// <summary>A sign-off submission of an issue: created when submitted, updated when decided (key: id, issueId).</summary>
    [JsonStringEnumMemberName("sign-off")] SignOff,
}

public enum ChangeOperation { Created, Updated, Deleted }

/// <summary>
/// One change: the entity's type and id, what happened, when and by whom, its key, and the entity as it is now (null
/// when it no longer exists). An entity changed several times appears once per change, each time as it is now.
/// </summary>
public sealed record ChangeResponse(
    ChangeEntity Type, string Id, ChangeOperation Operation, DateTime OccurredAt, string? Caller, JsonElement Key, JsonElement? Entity);

/// <summary>
/// A page of the feed. nextCursor is always given: the position after the last item (or the cursor sent, when nothing
/// new is visible yet); follow it until hasMore is false, then poll it later.
/// </summary>
public sealed record ChangePage(IReadOnlyList<ChangeResponse> Items, string NextCursor, bool HasMore);

public sealed record ChangeFeedQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    [Description("Cursor from a previous page's nextCursor; omit to start from the beginning.")]
    public string? After { get; init; }

    [Description("Largest number of changes to return (1–1000).")]
    [DefaultValue(DefaultLimit)]
    [Range(1, MaxLimit, ErrorMessage = "limit must be between 1 and 1000.")]
    public int? Limit { get; init; }

    [Description("Only these types, comma-separated (e.g. issue,measure,data-value); all types when omitted.")]
    public string? Types { get; init; }

    public int EffectiveLimit => Limit ?? DefaultLimit;
}

public sealed class ChangeFeedOptions
{
    public const string Section = "Rectify:Changes";

    /// <summary>Entries older than this may be pruned (the last entry of each existing entity is always kept).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Whether this node prunes in the background (several nodes may; one at a time does the work).</summary>
    public bool Prune { get; set; } = true;

    /// <summary>How often a node prunes (one node at a time; see <see cref="ChangePruning"/>).</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);
}

    /// <summary>
    /// A place in the feed: (transaction id, part: 0 changes, 1 data values, 2 deletions, then the part's own key), and the
    /// pruning generation the cursor was issued under (when pruning last removed entries; -1 in cursors issued before
    /// generations were kept). Entries kept by pruning (each entity's last) can lie below the pruning horizon: a consumer
    /// that read them after that pruning has missed nothing, so its cursor stays valid until pruning removes entries again.
    /// </summary>
readonly record struct FeedPosition(long Xid, int Part, long Seq, string Unit, string Period, long Generation = -1)
    {
        public static readonly FeedPosition Start = new(0, 0, 0, "", "");

        public string Encode() => Cursors.Encode(string.Join('|', Xid.ToString(CultureInfo.InvariantCulture),
            Part.ToString(CultureInfo.InvariantCulture), Seq.ToString(CultureInfo.InvariantCulture), Unit, Period,
            Generation.ToString(CultureInfo.InvariantCulture)));

        /// <summary>The position <paramref name="cursor"/> names; null when it is not a cursor this service issued.</summary>
        public static FeedPosition? Parse(string cursor)
        {
            var parts = Cursors.Decode(cursor).Split('|');
            var generation = -1L;
            return parts.Length is 5 or 6 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var xid)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var part) && part <= 2
                && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
                && (parts.Length == 5 || long.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out generation))
                ? new FeedPosition(xid, part, seq, parts[3], parts[4], generation)
                : null;
        }
    }

sealed class ChangeRow
{
    public long Xid { get; init; }
    public int Part { get; init; }
    public long Seq { get; init; }
    public string Unit { get; init; } = "";
    public string Period { get; init; } = "";
    public string Type { get; init; } = "";
    public string Id { get; init; } = "";
    public string Operation { get; init; } = "";
    public DateTime OccurredAt { get; init; }
    public string? Caller { get; init; }
    public string Key { get; init; } = "{}";
    public string? Entity { get; init; }

    public FeedPosition Position => new(Xid, Part, Seq, Unit, Period);

    public ChangeResponse ToResponse() => new(EnumText.Parse<ChangeEntity>(Type), Id, EnumText.Parse<ChangeOperation>(Operation),
        DateTime.SpecifyKind(OccurredAt, DateTimeKind.Utc), Caller, Json(Key), Entity is null ? null : Json(Entity));

    static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
