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
public sealed class Journal(Caller caller, Clock clock, IOptions<JsonOptions> json)
{
    static readonly HashSet<string> Entities = [.. EnumText.Names(typeof(JournalEntity))];

    /// <param name="entity">One of <see cref="JournalEntity"/>'s names: the journal filter and its readers know no other.</param>
    public Task RecordAsync(Tx tx, string entity, object entityId, string action, object? before, object? after, CancellationToken ct)
        => !Entities.Contains(entity) ? throw new ArgumentException($"'{entity}' is not a JournalEntity: add it there first.", nameof(entity)) : tx.ExecuteAsync(
            """
            INSERT INTO journal (occurred_at, actor, entity, entity_id, action, before, after)
            VALUES (@occurredAt, @actor, @entity, @entityId, @action, @before::jsonb, @after::jsonb)
            """,
            new
            {
                occurredAt = clock.UtcNow,
                actor = caller.Name,
                entity,
                entityId = Convert.ToString(entityId, System.Globalization.CultureInfo.InvariantCulture),
                action,
                before = before is null ? null : JsonSerializer.Serialize(before, json.Value.SerializerOptions),
                after = after is null ? null : JsonSerializer.Serialize(after, json.Value.SerializerOptions),
            },
            ct);
}
