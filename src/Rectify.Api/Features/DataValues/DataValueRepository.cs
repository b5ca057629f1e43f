using System.Globalization;
using Dapper;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.DataValues;

/// <summary>Reads of values. <c>readable</c>: the units whose values the caller may read (null: every unit, see Caller.ReadableUnits).</summary>
public sealed class DataValueRepository(Db db)
{
    public Task<Page<DataValueResponse>> ListAsync(DataValueListQuery query, string[]? readable, CancellationToken ct)
    {
        var (afterIndicator, afterUnit, afterPeriod) = DecodeKey(query.Cursor);
        var args = Filters(query, readable, new { afterIndicator, afterUnit, afterPeriod, limit = query.EffectiveLimit + 1 });
        return db.PageAsync(ListSql + " LIMIT @limit", args, query, (DataValueRow r) => (object)r.Key, r => r.ToResponse(), ct);
    }

    /// <summary>Every value the filters select, streamed row by row from the database to the caller (CSV or xlsx).</summary>
    public IResult Export(DataValueListQuery query, string[]? readable, CancellationToken ct)
        => CsvExport.File("data-values.csv", CsvColumns, ExportRowsAsync(query, readable, ct), ct);

    async IAsyncEnumerable<DataValueRow> ExportRowsAsync(DataValueListQuery query, string[]? readable,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var args = Filters(query, readable, new { afterIndicator = 0L, afterUnit = "", afterPeriod = "" });
        await using var connection = await db.OpenReadConnectionAsync(ct);
        await foreach (var row in connection.QueryUnbufferedAsync<DataValueRow>(ListSql, args).WithCancellation(ct)) yield return row;
    }

    internal static readonly CsvColumn<DataValueRow>[] CsvColumns =
    [
        new("indicator", r => r.Indicator), new("unit", r => r.UnitCode), new("period", r => r.Period), new("value", r => r.Value),
        new("comment", r => r.Comment), new("source", r => r.Source), new("updatedAt", r => r.UpdatedAt),
    ];

    public Task<Page<DataValueDeletionResponse>> DeletionsAsync(DeletionListQuery query, string[]? readable, CancellationToken ct)
        => db.PageAsync(DeletionsSql, new { after = query.After, limit = query.EffectiveLimit + 1, readable }, query,
            (DataValueDeletionResponse r) => (object)r.Id, r => r, ct);

    static object Filters(DataValueListQuery q, string[]? readable, object keyset)
    {
        var parameters = new DynamicParameters(keyset);
        parameters.AddDynamicParams(new
        {
            indicator = q.Indicator, unit = q.Unit, subtree = q.UnitSubtree, from = q.From, to = q.To, source = q.Source, readable,
        });
        return parameters;
    }

    static (long Indicator, string Unit, string Period) DecodeKey(string? cursor)
    {
        if (cursor is null) return (0, "", "");
        var parts = Cursors.Decode(cursor).Split('|');
        return parts.Length == 3 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? (id, parts[1], parts[2])
            : throw Cursors.Invalid();
    }

    // Keyset in primary-key order, so a page is an index range scan however many values there are.
    const string ListSql = """
        WITH RECURSIVE subtree AS (
            SELECT code FROM units WHERE code = @subtree
            UNION ALL
            SELECT u.code FROM units u JOIN subtree s ON u.parent_code = s.code
        )
        SELECT d.indicator_id, i.code AS indicator, d.unit_code, d.period, d.value, d.comment, d.source, d.created_at, d.updated_at
        FROM data_values d JOIN indicators i ON i.id = d.indicator_id
        WHERE (@indicator::text IS NULL OR i.code = @indicator)
          AND (@unit::text IS NULL OR d.unit_code = @unit)
          AND (@subtree::text IS NULL OR d.unit_code IN (SELECT code FROM subtree))
          AND (@from::text IS NULL OR d.period >= @from)
          AND (@to::text IS NULL OR d.period <= @to)
          AND (@source::text IS NULL OR d.source = @source)
          AND (@readable::text[] IS NULL OR d.unit_code IN (SELECT units_under(@readable))) -- see Caller.ReadableUnits
          AND (d.indicator_id, d.unit_code, d.period) > (@afterIndicator, @afterUnit, @afterPeriod)
        ORDER BY d.indicator_id, d.unit_code, d.period
        """;

    const string DeletionsSql = """
        SELECT id, indicator_code AS indicator, unit_code AS unit, period, value, deleted_by AS deletedby, deleted_at AS deletedat
        FROM data_value_deletions
        WHERE id > @after AND (@readable::text[] IS NULL OR unit_code IN (SELECT units_under(@readable)))
        ORDER BY id LIMIT @limit
        """;
}
