using System.Globalization;
using System.Text.Json;
using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Changes;

/// <summary>
/// Reads the change feed: the entries of the changes table (written by triggers in the writing transaction, see
/// migration 0009), the data values by the transaction that last wrote them, and the data-value deletions, merged in
/// one order: (transaction id, part, position). Only transactions below the oldest one still running are shown, so a
/// transaction that commits late is never passed over by a cursor.
/// </summary>
public sealed class ChangeFeed(Db db, Caller caller)
{
    public async Task<ChangePage> ReadAsync(ChangeFeedQuery query, CancellationToken ct)
    {
        var after = query.After is null ? FeedPosition.Start : FeedPosition.Parse(query.After);
        var types = ParseTypes(query.Types);
        var limit = query.EffectiveLimit;
        var rows = await db.ReadAsync(async (connection, token) =>
        {
            var horizon = await connection.QuerySingleAsync<long>(new CommandDefinition(HorizonSql, cancellationToken: token));
            if (query.After is not null && after.Xid <= horizon) throw CursorExpired();
            return (await connection.QueryAsync<ChangeRow>(new CommandDefinition(FeedSql, new
            {
                x = after.Xid, p = after.Part, s = after.Seq, u = after.Unit, pe = after.Period, limit = limit + 1, types,
                readable = caller.ReadableUnits, admin = caller.Holds(Scopes.Admin),
            }, cancellationToken: token))).AsList();
        }, ct);
        var items = rows.Take(limit).ToList();
        var next = items.Count == 0 ? after : items[^1].Position;
        return new ChangePage(items.Select(r => r.ToResponse()).ToList(), next.Encode(), rows.Count > limit);
    }

    static string[]? ParseTypes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var names = Enum.GetValues<ChangeEntity>().Select(EnumText.Format).ToArray();
        var asked = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return asked.All(names.Contains) ? asked : throw Problem.Validation("types", $"Use a comma-separated list of: {string.Join(", ", names)}.");
    }

    static ProblemException CursorExpired() => new(StatusCodes.Status410Gone, ProblemTypes.CursorExpired, "Cursor too old",
        "Changes after this cursor were pruned (see the retention in the README). Resynchronise: read the feed again from the start, without after.");

    /// <summary>A place in the feed: (transaction id, part: 0 changes, 1 data values, 2 deletions, then the part's own key).</summary>
    readonly record struct FeedPosition(long Xid, int Part, long Seq, string Unit, string Period)
    {
        public static readonly FeedPosition Start = new(0, 0, 0, "", "");

        public string Encode() => Cursors.Encode(string.Join('|', Xid.ToString(CultureInfo.InvariantCulture), Part.ToString(CultureInfo.InvariantCulture),
            Seq.ToString(CultureInfo.InvariantCulture), Unit, Period));

        public static FeedPosition Parse(string cursor)
        {
            var parts = Cursors.Decode(cursor).Split('|');
            return parts.Length == 5 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var xid)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var part) && part <= 2
                && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
                ? new FeedPosition(xid, part, seq, parts[3], parts[4])
                : throw Problem.Validation("after", "The cursor is not one this service issued: use nextCursor from a previous page.");
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

    const string HorizonSql = "SELECT pruned_below FROM change_feed_horizon";

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
}
