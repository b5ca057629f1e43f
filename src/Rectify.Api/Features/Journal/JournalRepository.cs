using Dapper;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Journal;

/// <summary>The SQL of reading the journal (it is written by <see cref="JournalWriter"/>); the rules are <see cref="JournalUseCases"/>'.</summary>
public sealed class JournalRepository(Db db)
{
    /// <summary><paramref name="entity"/>: one of <see cref="JournalEntity"/>'s names, or null for every entity.</summary>
    public Task<Page<JournalEntryResponse>> ListAsync(JournalQuery query, string? entity, CancellationToken ct)
    {
        var args = new
        {
            entity, query.EntityId, query.Actor,
            from = query.From?.UtcDateTime, to = query.To?.UtcDateTime,
            after = query.After, limit = query.EffectiveLimit + 1,
        };
        return db.PageAsync(ListSql, args, query, (JournalRow r) => (object)r.Id, r => r.ToResponse(), ct);
    }

    const string ListSql = """
        SELECT id, occurred_at, actor, entity, entity_id, action, before::text AS before, after::text AS after
        FROM journal
        WHERE (@entity::text IS NULL OR entity = @entity)
          AND (@entityId::text IS NULL OR entity_id = @entityId)
          AND (@actor::text IS NULL OR actor = @actor)
          AND (@from::timestamptz IS NULL OR occurred_at >= @from)
          AND (@to::timestamptz IS NULL OR occurred_at < @to)
          AND id > @after
        ORDER BY id
        LIMIT @limit
        """;
}
