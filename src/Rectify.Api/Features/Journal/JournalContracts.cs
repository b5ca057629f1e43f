using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Journal;

/// <summary>
/// What the journal records changes of: every value <see cref="JournalWriter.RecordAsync"/> writes (it refuses any other),
/// and the demo data's load.
/// </summary>
public enum JournalEntity
{
    Round, Issue, Measure, Indicator,
    /// <summary>A push of values (entity id: the push's importId).</summary>
    [JsonStringEnumMemberName("data-values")] DataValues,
    /// <summary>A month's snapshot (entity id: round/period).</summary>
    Snapshot,
    Client,
    /// <summary>The reference case loaded as demo data (entity id: the round).</summary>
    [JsonStringEnumMemberName("demo-data")] DemoData,
    /// <summary>A webhook subscription (its secret is never journalled).</summary>
    [JsonStringEnumMemberName("webhook-subscription")] WebhookSubscription,
}

/// <summary>One change: who (the calling system), when, what, and the entity before and after.</summary>
public sealed record JournalEntryResponse(
    long Id, DateTime OccurredAt, string Actor, JournalEntity Entity, string EntityId, string Action, JsonElement? Before, JsonElement? After);

public sealed record JournalQuery : PageRequest
{
    [Description("Only changes of this kind of entity.")]
    public string? Entity { get; init; }

    [Description("Only changes of this entity id (or code, for rounds).")]
    public string? EntityId { get; init; }

    [Description("Only changes made by this caller.")]
    public string? Actor { get; init; }

    [Description("Only changes at or after this instant (ISO 8601 with an offset, e.g. 2025-10-01T00:00:00+08:00).")]
    public Instant? From { get; init; }

    [Description("Only changes before this instant (ISO 8601 with an offset, e.g. 2025-11-01T00:00:00Z).")]
    public Instant? To { get; init; }
}

sealed class JournalRow
{
    public long Id { get; init; }
    public DateTime OccurredAt { get; init; }
    public string Actor { get; init; } = "";
    public string Entity { get; init; } = "";
    public string EntityId { get; init; } = "";
    public string Action { get; init; } = "";
    public string? Before { get; init; }
    public string? After { get; init; }

    public JournalEntryResponse ToResponse()
        => new(Id, DateTime.SpecifyKind(OccurredAt, DateTimeKind.Utc), Actor, EnumText.Parse<JournalEntity>(Entity), EntityId, Action, Parse(Before),
            Parse(After));

    static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
