using Dapper;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Journal;

public sealed class JournalRepository(Db db)
{
    public Task<Page<JournalEntryResponse>> ListAsync(JournalQuery query, CancellationToken ct)
    {
        var args = new
        {
            entity = QueryEnums.Checked<JournalEntity>(query.Entity, "entity"), query.EntityId, query.Actor,
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
