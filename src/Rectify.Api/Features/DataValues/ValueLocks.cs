using Rectify.Api.Features.Indicators;

namespace Rectify.Api.Features.DataValues;

/// <summary>
/// Values locked by a published snapshot (the view <c>value_locks</c>, migration 0007): the indicators the snapshot
/// shows, at its round's region and every unit below it, for the period it read. Other rounds, indicators and regions
/// of the same month stay open. Writers find the locked rows of a whole push in one statement.
/// </summary>
static class ValueLocks
{
    /// <summary>A staged row that a published snapshot locks, with the latest revision that does.</summary>
    public sealed record LockedRow(long RowNo, string Period, string RoundCode, string Month, int Revision)
    {
        /// <summary>Why the row is rejected, to be said in the caller's language.</summary>
        public Text Reason => new("{0} of this indicator and unit is locked by the published snapshot {1} {2} (revision {3}): "
            + "send revisionReason to revise it.", Period, RoundCode, Month, Revision);

        /// <summary>The reason in English.</summary>
        public string Message => Reason.ToString();
    }

    /// <summary>The month whose snapshot locks a value of <paramref name="period"/>: the period's last month.</summary>
    public static string LockingMonth(Period period) => Period.MonthOf(period.LastDay).ToString();

    /// <summary>
    /// Common table expressions ending in <c>locked</c> (row_no, period, round_code, month, revision): the rows of
    /// <paramref name="rows"/> (a relation with row_no, indicator_id, unit_code, period) that a published snapshot of
    /// one of <c>@months</c> locks, each once. The subtree of each locked region is walked once, not once per row.
    /// </summary>
    public static string LockedCtes(string rows) => $"""
        WITH shown AS MATERIALIZED (
            SELECT indicator_id, period, region_code, round_code, month, revision, published_at
            FROM value_locks WHERE month = ANY (@months)
        ),
        subtree AS (
            SELECT r.region_code, u.code AS unit_code
            FROM (SELECT DISTINCT region_code FROM shown) r CROSS JOIN LATERAL units_under(ARRAY[r.region_code]) AS u(code)
        ),
        locked AS (
            SELECT DISTINCT ON (s.row_no) s.row_no, s.period, k.round_code, k.month, k.revision
            FROM {rows} s
            JOIN subtree t ON t.unit_code = s.unit_code
            JOIN shown k ON k.region_code = t.region_code AND k.indicator_id = s.indicator_id AND k.period = s.period
            ORDER BY s.row_no, k.published_at DESC, k.revision DESC
        )
        """;

    public const string Columns = "row_no AS rowno, period, round_code AS roundcode, month, revision";
}
