using Dapper;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Changes;

/// <summary>
/// The SQL of the change feed: the entries of the changes table (written by triggers in the writing transaction, see
/// migration 0009), the data values by the transaction that last wrote them, and the data-value deletions, merged in
/// one order: (transaction id, part, position). Only transactions below the oldest one still running are read, so a
/// transaction that commits late is never passed over by a cursor. The rules are <see cref="ChangeUseCases"/>'.
/// </summary>
public sealed class ChangeRepository(Db db)
{
    /// <summary>
    /// Where pruning has reached (entries at or below it are gone, but for each entity's last), its generation (when it
    /// last removed entries, in microseconds since 1970; 0 before it ever did) and up to <paramref name="limit"/> entries after
    /// <paramref name="after"/>, in one round trip; <paramref name="readable"/>: the units whose changes to read (null: all).
    /// </summary>
    internal Task<(long PrunedBelow, long Generation, List<ChangeRow> Rows)> ReadAsync(FeedPosition after, string[]? types, int limit,
        string[]? readable, bool admin, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
        {
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(HorizonSql + ";\n" + FeedSql, new
            {
                x = after.Xid, p = after.Part, s = after.Seq, u = after.Unit, pe = after.Period, limit, types, readable, admin,
            }, cancellationToken: token));
            var (prunedBelow, generation) = await results.ReadSingleAsync<(long, long)>();
            return (prunedBelow, generation, (await results.ReadAsync<ChangeRow>()).AsList());
        }, ct);

    /// <summary>Takes the pruning job's lock for <paramref name="tx"/>; false when another node holds it.</summary>
    public Task<bool> TryLockPruningAsync(Tx tx, CancellationToken ct)
        => tx.QuerySingleAsync<bool>("SELECT pg_try_advisory_xact_lock(@key)", new { key = PruneLock }, ct);

    /// <summary>Removes superseded entries and deletions older than <paramref name="before"/> and moves the horizon; the number removed.</summary>
    public Task<long> PruneAsync(Tx tx, DateTime before, CancellationToken ct) => tx.QuerySingleAsync<long>(PruneSql, new { before }, ct);

    const long PruneLock = 0x5245_4354_4946_0009;

    const string HorizonSql = """
        SELECT pruned_below, coalesce((extract(epoch FROM pruned_at) * 1000000)::bigint, 0) AS generation FROM change_feed_horizon
        """;

    // Each part fetches at most @limit rows after the cursor, in its own order, below the bound; the outer query merges
    // them. The bound is taken once, from this statement's snapshot.
    const string FeedSql = """
        WITH bound AS MATERIALIZED (SELECT change_feed_bound() AS below),
        page AS (
            (SELECT c.xid, 0 AS part, c.id AS seq, ''::text AS unit, ''::text AS period
             FROM changes c
             WHERE c.xid >= @x AND c.xid < (SELECT below FROM bound) AND (c.xid, 0, c.id) > (@x, @p, @s)
               AND (@types::text[] IS NULL OR c.entity = ANY (@types))
               AND CASE c.entity
                   WHEN 'client' THEN @admin
                   WHEN 'snapshot' THEN @readable::text[] IS NULL
                   WHEN 'round' THEN true
                   WHEN 'indicator' THEN true
                   ELSE @readable::text[] IS NULL OR c.unit_code IN (SELECT units_under(@readable))
                     OR (c.entity = 'issue' AND EXISTS (SELECT 1 FROM measures m
                         WHERE m.issue_id = c.entity_id::bigint AND m.owner_unit_code IN (SELECT units_under(@readable))))
                   END
             ORDER BY c.xid, c.id LIMIT @limit)
            UNION ALL
            (SELECT d.change_xid, 1, d.indicator_id, d.unit_code, d.period
             FROM data_values d
             WHERE d.change_xid >= @x AND d.change_xid < (SELECT below FROM bound)
               AND (d.change_xid, 1, d.indicator_id, d.unit_code, d.period) > (@x, @p, @s, @u, @pe)
               AND (@types::text[] IS NULL OR 'data-value' = ANY (@types))
               AND (@readable::text[] IS NULL OR d.unit_code IN (SELECT units_under(@readable)))
             ORDER BY d.change_xid, d.indicator_id, d.unit_code, d.period LIMIT @limit)
            UNION ALL
            (SELECT g.xid, 2, g.id, '', ''
             FROM data_value_deletions g
             WHERE g.xid >= @x AND g.xid < (SELECT below FROM bound) AND (g.xid, 2, g.id) > (@x, @p, @s)
               AND (@types::text[] IS NULL OR 'data-value' = ANY (@types))
               AND (@readable::text[] IS NULL OR g.unit_code IN (SELECT units_under(@readable)))
             ORDER BY g.xid, g.id LIMIT @limit)
        )
        SELECT p.xid, p.part, p.seq, p.unit, p.period,
               coalesce(c.entity, 'data-value') AS type,
               CASE p.part WHEN 0 THEN c.entity_id WHEN 1 THEN di.code || '/' || d.unit_code || '/' || d.period
                           ELSE g.indicator_code || '/' || g.unit_code || '/' || g.period END AS id,
               CASE p.part WHEN 0 THEN c.operation WHEN 1 THEN CASE WHEN d.created_at = d.updated_at THEN 'created' ELSE 'updated' END
                           ELSE 'deleted' END AS operation,
               CASE p.part WHEN 0 THEN c.occurred_at WHEN 1 THEN d.updated_at ELSE g.deleted_at END AS occurred_at,
               CASE p.part WHEN 0 THEN (SELECT j.actor FROM journal j WHERE j.xid = c.xid ORDER BY j.id LIMIT 1)
                           WHEN 1 THEN d.source ELSE g.deleted_by END AS caller,
               CASE p.part WHEN 0 THEN c.key
                           WHEN 1 THEN jsonb_build_object('indicator', di.code, 'unit', d.unit_code, 'period', d.period)
                           ELSE jsonb_build_object('indicator', g.indicator_code, 'unit', g.unit_code, 'period', g.period) END::text AS key,
               CASE p.part
                   WHEN 1 THEN jsonb_build_object('indicator', di.code, 'unit', d.unit_code, 'period', d.period, 'value', d.value,
                       'comment', d.comment, 'source', d.source, 'createdAt', d.created_at, 'updatedAt', d.updated_at)
                   WHEN 0 THEN CASE c.entity
                       WHEN 'round' THEN (SELECT camel_keys(to_jsonb(t)) FROM rounds t WHERE t.id = c.entity_id::bigint)
                       WHEN 'issue' THEN (SELECT camel_keys(to_jsonb(t)) FROM issues t WHERE t.id = c.entity_id::bigint)
                       WHEN 'measure' THEN (SELECT camel_keys(to_jsonb(t)) FROM measures t WHERE t.id = c.entity_id::bigint)
                       WHEN 'progress' THEN (SELECT camel_keys(to_jsonb(t)) FROM measure_progress t WHERE t.id = c.entity_id::bigint)
                       WHEN 'evidence' THEN (SELECT camel_keys(to_jsonb(t)) FROM measure_evidence t WHERE t.id = c.entity_id::bigint)
                       WHEN 'indicator' THEN (SELECT camel_keys(to_jsonb(t)) FROM indicators t WHERE t.id = c.entity_id::bigint)
                       WHEN 'snapshot' THEN (SELECT camel_keys(to_jsonb(t) - 'push_hash') FROM snapshots t WHERE t.id = c.entity_id::bigint)
                       WHEN 'client' THEN (SELECT camel_keys(to_jsonb(t)) FROM clients t WHERE t.id = c.entity_id::bigint)
                       WHEN 'deadline-change' THEN (SELECT camel_keys(to_jsonb(t)) FROM deadline_changes t WHERE t.id = c.entity_id::bigint)
                       WHEN 'evidence-file' THEN
                           (SELECT camel_keys(to_jsonb(t)) FROM evidence_file_versions t WHERE t.id = c.entity_id::bigint)
                       WHEN 'sign-off' THEN (SELECT camel_keys(to_jsonb(t)) FROM sign_offs t WHERE t.id = c.entity_id::bigint)
                       END
               END::text AS entity
        FROM page p
        LEFT JOIN changes c ON p.part = 0 AND c.id = p.seq
        LEFT JOIN data_values d ON p.part = 1 AND d.indicator_id = p.seq AND d.unit_code = p.unit AND d.period = p.period
        LEFT JOIN indicators di ON di.id = d.indicator_id
        LEFT JOIN data_value_deletions g ON p.part = 2 AND g.id = p.seq
        ORDER BY p.xid, p.part, p.seq, p.unit, p.period
        LIMIT @limit
        """;

    const string PruneSql = """
        WITH pruned AS (
            DELETE FROM changes c
            WHERE c.occurred_at < @before
              AND (c.operation = 'deleted'
                OR EXISTS (SELECT 1 FROM changes n WHERE n.entity = c.entity AND n.entity_id = c.entity_id AND n.id > c.id))
            RETURNING c.xid
        ),
        gone AS (DELETE FROM data_value_deletions WHERE deleted_at < @before RETURNING xid),
        removed AS (SELECT xid FROM pruned UNION ALL SELECT xid FROM gone),
        moved AS (
            UPDATE change_feed_horizon SET pruned_below = greatest(pruned_below, (SELECT max(xid) FROM removed)), pruned_at = now()
            WHERE EXISTS (SELECT 1 FROM removed)
        )
        SELECT count(*) FROM removed
        """;
}
