using Dapper;
using Npgsql;
using NpgsqlTypes;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.DataValues;

/// <summary>How a merge classified the staged rows: exact, because every writer holds the push lock.</summary>
readonly record struct DataValueCounts(long Inserted, long Updated, long Unchanged, long Deleted);

/// <summary>
/// The one writer of data_values, on the caller's transaction: the push lock, staging of checked rows (binary COPY into
/// a temporary table), the checks that need the database (values locked by a published snapshot, values that exist for
/// strategy=create), and the merge itself, which touches only rows that differ so that its counts are exact, and
/// recomputes the roll-ups above the rows it wrote (indicator_rollups) in the same transaction. The import and the
/// snapshot push both write through here.
/// </summary>
static class DataValueMerge
{
    // Migration 0008's units_moved trigger takes it too (as a decimal literal) before recomputing roll-ups.
    const long PushLock = 0x5245_4354_4946_0003;

    /// <summary>
    /// Every writer of data_values holds this transaction lock, so that counts are exact and two pushes over the same keys
    /// end as one or the other. Waiting longer than <paramref name="wait"/> is a 503.
    /// </summary>
    public static async Task AcquirePushLockAsync(Tx tx, TimeSpan wait, CancellationToken ct)
    {
        await tx.ExecuteAsync($"SET LOCAL lock_timeout = {(int)wait.TotalMilliseconds}", null, ct);
        try
        {
            await tx.ExecuteAsync("SELECT pg_advisory_xact_lock(@lock)", new { @lock = PushLock }, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new ProblemException(StatusCodes.Status503ServiceUnavailable, ProblemTypes.DatabaseUnavailable, "Another push is being applied",
                "Pushes are applied one at a time and the one before this took too long. Retry after the time given in Retry-After.");
        }
        await tx.ExecuteAsync("SET LOCAL lock_timeout = 0", null, ct);
    }

    /// <summary>Stages <paramref name="rows"/> (<paramref name="count"/> of them) for the checks and the merge below.</summary>
    public static async Task StageAsync(Tx tx, IEnumerable<StagedRow> rows, long count, CancellationToken ct)
    {
        await tx.ExecuteAsync(StagingSql, null, ct);
        await using (var copy = await tx.Connection.BeginBinaryImportAsync(
            "COPY push_rows (row_no, indicator_id, unit_code, period, value, comment) FROM STDIN (FORMAT BINARY)", ct))
        {
            // Synchronous writes: they fill Npgsql's buffer and only block when it is sent; the async ones cost an
            // await per field, which dominated the copy of a million rows.
            foreach (var row in rows)
            {
                ct.ThrowIfCancellationRequested();
                copy.StartRow();
                copy.Write(row.Row, NpgsqlDbType.Bigint);
                copy.Write(row.IndicatorId, NpgsqlDbType.Bigint);
                copy.Write(row.Unit, NpgsqlDbType.Text);
                copy.Write(row.Period, NpgsqlDbType.Text);
                copy.Write(row.Value, NpgsqlDbType.Numeric);
                if (row.Comment is null) copy.WriteNull();
                else copy.Write(row.Comment, NpgsqlDbType.Text);
            }
            await copy.CompleteAsync(ct);
        }
        // Fresh statistics, or the planner joins a million staged rows as if there were a handful.
        if (count <= 1000) return;
        await tx.ExecuteAsync("ANALYZE push_rows", null, ct);
        // The same for data_values when this push alone is larger than the table the planner last saw (it grew faster than
        // autovacuum analyses it, e.g. the first pushes): with statistics of a near-empty table, the staged rows were
        // matched through the (unit_code, period) index, filtering every indicator's row of each unit and month: 22 s
        // instead of 0.8 s for 200,000 rows (tests/Benchmarks/RESULTS.md). Cheap then: the table is at most a few pushes.
        if (await tx.QuerySingleAsync<bool>(StaleValueStatisticsSql, new { count }, ct)) await tx.ExecuteAsync("ANALYZE data_values", null, ct);
    }

    const string StaleValueStatisticsSql = "SELECT reltuples < @count FROM pg_class WHERE oid = 'data_values'::regclass";

    /// <summary>
    /// The staged rows that a published snapshot of one of <paramref name="months"/> locks (see ValueLocks), by row number;
    /// they are removed from staging.
    /// </summary>
    public static async Task<IReadOnlyList<ValueLocks.LockedRow>> TakeLockedAsync(Tx tx, string[] months, CancellationToken ct)
        => months.Length == 0 ? [] : (await tx.QueryAsync<ValueLocks.LockedRow>(LockedSql, new { months }, ct)).AsList();

    /// <summary>strategy=create: the row numbers of staged rows whose value already exists, in order; they are removed from staging.</summary>
    public static async Task<IReadOnlyList<long>> TakeExistingAsync(Tx tx, CancellationToken ct)
        => (await tx.QueryAsync<long>(ExistingSql, null, ct)).AsList();

    /// <summary>What merging the staged rows with <paramref name="strategy"/> would do, without doing it.</summary>
    public static async Task<DataValueCounts> PreviewAsync(Tx tx, ImportStrategy strategy, CancellationToken ct)
    {
        var c = await tx.QuerySingleAsync<(long Absent, long Changed, long Same)>(ClassifySql, null, ct);
        return strategy switch
        {
            ImportStrategy.Delete => new DataValueCounts(0, 0, c.Absent, c.Changed + c.Same),
            ImportStrategy.Create => new DataValueCounts(c.Absent, 0, 0, 0),
            _ => new DataValueCounts(c.Absent, c.Changed, c.Same, 0),
        };
    }

    /// <summary>
    /// Merges the <paramref name="staged"/> staged rows into data_values with <paramref name="strategy"/>, as <paramref name="source"/>.
    /// </summary>
    public static async Task<DataValueCounts> ApplyAsync(Tx tx, ImportStrategy strategy, long staged, string source, DateTime now,
        CancellationToken ct)
    {
        var args = new { source, now };
        switch (strategy)
        {
            case ImportStrategy.Delete:
            {
                var deleted = await tx.ExecuteAsync(DeleteSql, args, ct);
                await RefreshRollupsAsync(tx, ct);
                return new DataValueCounts(0, 0, staged - deleted, deleted);
            }
            case ImportStrategy.Create:
            {
                var inserted = await tx.QuerySingleAsync<long>(InsertNewSql, args, ct);
                await RefreshRollupsAfterAsync(tx, inserted, ct);
                return new DataValueCounts(inserted, 0, 0, 0);
            }
            default:
            {
                // The merge counts what it wrote itself (no classifying pass over the staged rows before it): it touches only
                // what differs, staged keys are distinct, and under the push lock the rest are exactly the unchanged rows.
                var (inserted, updated) = await tx.QuerySingleAsync<(long Inserted, long Updated)>(UpsertSql, args, ct);
                await RefreshRollupsAfterAsync(tx, inserted, ct);
                return new DataValueCounts(inserted, updated, staged - inserted - updated, 0);
            }
        }
    }

    /// <summary>
    /// Recomputes the roll-ups (indicator_rollups, migration 0008) that the keys noted in rollup_dirty feed, on the
    /// merge's transaction: every unit above a written value, level by level, set-based. Only written keys are noted
    /// (an unchanged value feeds nothing new), so an unchanged push recomputes nothing.
    /// </summary>
    internal static Task RefreshRollupsAsync(Tx tx, CancellationToken ct) => tx.ExecuteAsync("SELECT indicator_rollups_refresh()", null, ct);

    /// <summary>
    /// <see cref="RefreshRollupsAsync"/> after a merge that inserted <paramref name="inserted"/> rows. The refresh reads
    /// data_values by the keys just written; when the merge inserted more rows than the table's statistics count (a first
    /// large push), the planner would scan the table once per key as if it held a handful, each row's visibility checked
    /// (over 20 s for 40,000 rows after a rolled-back push had left as many dead ones): fresh statistics first.
    /// </summary>
    static async Task RefreshRollupsAfterAsync(Tx tx, long inserted, CancellationToken ct)
    {
        if (inserted > 1000 && await tx.QuerySingleAsync<bool>(OutgrownStatisticsSql, new { inserted }, ct))
            await tx.ExecuteAsync("ANALYZE data_values", null, ct);
        await RefreshRollupsAsync(tx, ct);
    }

    const string OutgrownStatisticsSql =
        "SELECT reltuples < @inserted AND EXISTS (SELECT 1 FROM rollup_dirty) FROM pg_class WHERE oid = 'data_values'::regclass";

    /// <summary>Creates rollup_dirty for this transaction: the keys whose units above need their roll-ups recomputed.</summary>
    internal const string RollupDirtySql =
        "CREATE TEMP TABLE IF NOT EXISTS rollup_dirty (indicator_id bigint, unit_code text, period text) ON COMMIT DROP";

    /// <summary>
    /// A data-modifying CTE <c>noted</c> that notes, for the rows of <paramref name="written"/> (a CTE returning
    /// indicator_id, unit_code, period), the units directly above them that combine them.
    /// </summary>
    internal static string NoteDirty(string written) => $"""
        noted AS (
            INSERT INTO rollup_dirty (indicator_id, unit_code, period)
            SELECT DISTINCT w.indicator_id, p.ancestor_code, w.period
            FROM {written} w JOIN unit_rollup_paths p ON p.unit_code = w.unit_code AND p.distance = 1
        )
        """;

    const string StagingSql = $"""
        CREATE TEMP TABLE push_rows (
            row_no bigint NOT NULL, indicator_id bigint NOT NULL, unit_code text NOT NULL, period text NOT NULL,
            value numeric NOT NULL, comment text
        ) ON COMMIT DROP;
        {RollupDirtySql}
        """;

    const string Match = "d.indicator_id = s.indicator_id AND d.unit_code = s.unit_code AND d.period = s.period";

    const string ClassifySql = $"""
        SELECT count(*) FILTER (WHERE d.indicator_id IS NULL) AS absent,
               count(*) FILTER (WHERE d.indicator_id IS NOT NULL AND (d.value, d.comment) IS DISTINCT FROM (s.value, s.comment)) AS changed,
               count(*) FILTER (WHERE d.indicator_id IS NOT NULL AND (d.value, d.comment) IS NOT DISTINCT FROM (s.value, s.comment)) AS same
        FROM push_rows s LEFT JOIN data_values d ON {Match}
        """;

    const string ExistingSql = $"""
        WITH existing AS (DELETE FROM push_rows s USING data_values d WHERE {Match} RETURNING s.row_no)
        SELECT row_no FROM existing ORDER BY row_no
        """;

    // Data-modifying CTEs run whether or not the final SELECT reads them.
    static readonly string LockedSql = $"""
        {ValueLocks.LockedCtes("push_rows")},
        gone AS (DELETE FROM push_rows s USING locked l WHERE s.row_no = l.row_no)
        SELECT {ValueLocks.Columns} FROM locked ORDER BY row_no
        """;

    // The change feed's stamp (change_xid, migration 0009), taken once per statement: the column's default and the row
    // trigger would compute it per row (the trigger as a PL/pgSQL call per updated row, which migration 0022 now skips for
    // an update that sets it).
    const string StampedRows = "stamp AS MATERIALIZED (SELECT current_xid() AS xid)";
    const string SelectStamped =
        "SELECT s.indicator_id, s.unit_code, s.period, s.value, s.comment, @source, @now, @now, x.xid FROM push_rows s CROSS JOIN stamp x";

    // Data-modifying CTEs run whether or not the final SELECT reads them; the counts are of the rows written. A row the
    // statement inserted has no xmax; one it updated carries the row lock ON CONFLICT took (PostgreSQL's known idiom, held
    // to by the import tests' exact counts of mixed pushes).
    static readonly string UpsertSql = $"""
        WITH {StampedRows},
        written AS (
            INSERT INTO data_values AS d (indicator_id, unit_code, period, value, comment, source, created_at, updated_at, change_xid)
            {SelectStamped}
            ON CONFLICT (indicator_id, unit_code, period) DO UPDATE
            SET value = EXCLUDED.value, comment = EXCLUDED.comment, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at,
                change_xid = EXCLUDED.change_xid
            WHERE (d.value, d.comment) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.comment)
            RETURNING d.indicator_id, d.unit_code, d.period, d.xmax = 0 AS inserted
        ),
        {NoteDirty("written")}
        SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written
        """;

    static readonly string InsertNewSql = $"""
        WITH {StampedRows},
        written AS (
            INSERT INTO data_values (indicator_id, unit_code, period, value, comment, source, created_at, updated_at, change_xid)
            {SelectStamped}
            RETURNING indicator_id, unit_code, period
        ),
        {NoteDirty("written")}
        SELECT count(*) FROM written
        """;

    static readonly string DeleteSql = $"""
        WITH gone AS (
            DELETE FROM data_values d USING push_rows s WHERE {Match}
            RETURNING d.indicator_id, d.unit_code, d.period, d.value
        ),
        {NoteDirty("gone")}
        INSERT INTO data_value_deletions (indicator_code, unit_code, period, value, deleted_by, deleted_at)
        SELECT i.code, g.unit_code, g.period, g.value, @source, @now FROM gone g JOIN indicators i ON i.id = g.indicator_id
        """;
}
