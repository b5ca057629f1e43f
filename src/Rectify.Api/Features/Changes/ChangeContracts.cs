using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

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
