using Dapper;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Report;

/// <summary>What a progress report reads beside the round, the snapshots and the series: unit names and the key indicators' ranks.</summary>
public sealed class ReportRepository(Db db)
{
    /// <summary>The names of the units of <paramref name="codes"/>, by code.</summary>
    public Task<Dictionary<string, string>> UnitNamesAsync(string[] codes, CancellationToken ct)
        => db.ReadAsync(async (connection, token) => (await connection.QueryAsync<(string Code, string Name)>(
                new CommandDefinition(UnitNamesSql, new { codes }, cancellationToken: token)))
            .ToDictionary(u => u.Code, u => u.Name, StringComparer.Ordinal), ct);

    /// <summary>
    /// For each indicator of <paramref name="codes"/>, the months from <paramref name="from"/> to <paramref name="to"/>
    /// with a value in the region of <paramref name="unit"/>.
    /// </summary>
    public Task<Dictionary<string, int>> MonthsWithValuesAsync(string[] codes, string unit, string? from, string? to, CancellationToken ct)
        => db.ReadAsync(async (connection, token) => (await connection.QueryAsync<(string Code, int Months)>(new CommandDefinition(
                RankSql, new { codes, unit, from, to }, cancellationToken: token)))
            .ToDictionary(r => r.Code, r => r.Months, StringComparer.Ordinal), ct);

    const string UnitNamesSql = "SELECT code, name FROM units WHERE code = ANY (@codes)";

    // The region's subtree as the series combines it; a ratio is ranked by its numerator's values.
    const string RankSql = $"""
        WITH RECURSIVE {IndicatorSeries.SubtreeCte}
        SELECT i.code, count(DISTINCT d.period)::int AS months
        FROM indicators i
        JOIN data_values d ON d.indicator_id = coalesce(i.numerator_id, i.id)
        WHERE i.code = ANY (@codes) AND d.period BETWEEN @from AND @to AND d.unit_code IN (SELECT code FROM subtree)
        GROUP BY i.code
        """;
}
