using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Journal;

/// <summary>
/// Records a change in the journal inside the change's own transaction, so that a change never lands without
/// its entry nor an entry without its change. Every write goes through here: it is the seam for the change feed
/// and the webhook outbox.
/// </summary>
public sealed class JournalWriter(Caller caller, Clock clock, IOptions<JsonOptions> json)
{
    static readonly HashSet<string> Entities = [.. EnumText.Names(typeof(JournalEntity))];

    /// <param name="entity">One of <see cref="JournalEntity"/>'s names: the journal filter and its readers know no other.</param>
    public Task RecordAsync(Tx tx, string entity, object entityId, string action, object? before, object? after, CancellationToken ct)
        => RecordAllAsync(tx, entity, action, [(entityId, before, after)], ct);

    /// <summary>One entry per change, in the order given, with one statement.</summary>
    public Task RecordAllAsync(Tx tx, string entity, string action, IReadOnlyList<(object EntityId, object? Before, object? After)> changes,
        CancellationToken ct)
        => !Entities.Contains(entity)
            ? throw new ArgumentException($"'{entity}' is not a JournalEntity: add it there first.", nameof(entity)) : tx.ExecuteAsync(
            """
            INSERT INTO journal (occurred_at, actor, entity, entity_id, action, before, after)
            SELECT @occurredAt, @actor, @entity, c.entity_id, @action, c.before::jsonb, c.after::jsonb
            FROM unnest(@entityIds::text[], @befores::text[], @afters::text[]) WITH ORDINALITY AS c(entity_id, before, after, ord)
            ORDER BY c.ord
            """,
            new
            {
                occurredAt = clock.UtcNow,
                actor = caller.Name,
                entity,
                action,
                entityIds = changes.Select(c => Convert.ToString(c.EntityId, System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
                befores = changes.Select(c => Serialize(c.Before)).ToArray(),
                afters = changes.Select(c => Serialize(c.After)).ToArray(),
            },
            ct);

    string? Serialize(object? value) => value is null ? null : JsonSerializer.Serialize(value, json.Value.SerializerOptions);
}
