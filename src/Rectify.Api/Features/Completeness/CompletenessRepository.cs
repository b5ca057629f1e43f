using System.Data;
using Dapper;

namespace Rectify.Api.Features.Completeness;

/// <summary>One row per expected report: a monthly indicator, a unit expected to report it, a month, and when its value arrived.</summary>
public sealed class ExpectedReportRow
{
    public string Indicator { get; init; } = "";
    public string Unit { get; init; } = "";
    public Period Period { get; init; }
    public short? ReportingDay { get; init; }
    public DateTime? ReportedAt { get; init; }
}

/// <summary>The expected reports of months, in SQL. Runs on the connection (or transaction) it is given.</summary>
public static class CompletenessRepository
{
    /// <summary>
    /// Every expected report of <paramref name="months"/>, of the units under <paramref name="readable"/> (null: every
    /// unit) and of the <paramref name="indicators"/> named (null: every monthly indicator).
    /// </summary>
    public static async Task<IReadOnlyList<ExpectedReportRow>> ReadAsync(IDbConnection connection, IEnumerable<Period> months, string[]? readable,
        string[]? indicators, CancellationToken ct)
        => (await connection.QueryAsync<ExpectedReportRow>(new CommandDefinition(ExpectedSql,
            new { periods = months.Select(m => m.ToString()).ToArray(), readable, indicators }, cancellationToken: ct))).AsList();

    const string ExpectedSql = """
        SELECT i.code AS indicator, r.unit_code AS unit, p.period, i.reporting_day, d.created_at AS reported_at
        FROM indicators i
        JOIN indicator_reporters r ON r.indicator_id = i.id
        CROSS JOIN unnest(@periods::text[]) AS p(period)
        LEFT JOIN data_values d ON d.indicator_id = i.id AND d.unit_code = r.unit_code AND d.period = p.period
        WHERE i.frequency = 'monthly' AND i.value_type <> 'ratio' AND (@indicators::text[] IS NULL OR i.code = ANY (@indicators))
          AND (@readable::text[] IS NULL OR r.unit_code IN (SELECT units_under(@readable))) -- see Caller.ReadableUnits
        ORDER BY i.code, r.unit_code, p.period
        """;
}
