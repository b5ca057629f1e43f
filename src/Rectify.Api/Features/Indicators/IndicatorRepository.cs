using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Indicators;

/// <summary>The SQL of the indicator catalogue; the rules are <see cref="IndicatorUseCases"/>'.</summary>
public sealed class IndicatorRepository(Db db)
{
    /// <summary><paramref name="valueType"/>: the stored spelling, or null for every value type.</summary>
    public Task<Page<IndicatorResponse>> ListAsync(IndicatorListQuery query, string? valueType, CancellationToken ct)
    {
        var args = new
        {
            issue = query.Issue,
            measure = query.Measure,
            valueType,
            pattern = TextSearch.ContainsPattern(query.Q),
            after = query.After,
            limit = query.EffectiveLimit + 1,
        };
        return db.PageAsync(ListSql, args, query, (IndicatorRow r) => (object)r.Id, r => r.ToResponse(), ct);
    }

    public Task<(IndicatorResponse Indicator, int Version)?> FindAsync(string code, CancellationToken ct)
        => db.ReadAsync<(IndicatorResponse, int)?>(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<IndicatorRow>(new CommandDefinition(FindSql, new { code },
                cancellationToken: token)) is { } row
                ? (row.ToResponse(), row.Version)
                : null, ct);

    /// <summary>
    /// The stored definition (frequency, aggregation, ratio parts) that reads of values are computed with, without its links
    /// (reporters, issues and measures are left empty).
    /// </summary>
    internal Task<IndicatorRow?> FindDefinitionAsync(string code, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<IndicatorRow>(new CommandDefinition(FindDefinitionSql, new { code },
                cancellationToken: token)), ct);

    /// <summary>The indicator as it now stands in <paramref name="tx"/>.</summary>
    internal Task<IndicatorRow> FindAsync(Tx tx, string code, CancellationToken ct) => tx.QuerySingleAsync<IndicatorRow>(FindSql, new { code }, ct);

    /// <summary>The indicator locked to change; null when there is none.</summary>
    internal Task<IndicatorRow?> LockAsync(Tx tx, string code, CancellationToken ct) =>
        tx.QuerySingleOrDefaultAsync<IndicatorRow>(LockSql, new { code }, ct);

    /// <summary>Inserts the indicator's fields (not its links); returns its id.</summary>
    public Task<long> InsertAsync(Tx tx, string code, IndicatorFields fields, RatioParts parts, DateTime now, CancellationToken ct)
        => tx.QuerySingleAsync<long>(InsertSql, Parameters(fields, code, parts, now), ct);

    /// <summary>Replaces the indicator's fields (not its links) and moves its version on.</summary>
    public Task UpdateAsync(Tx tx, string code, IndicatorFields fields, RatioParts parts, DateTime now, CancellationToken ct)
        => tx.ExecuteAsync(UpdateSql, Parameters(fields, code, parts, now), ct);

    public Task DeleteAsync(Tx tx, long id, CancellationToken ct) => tx.ExecuteAsync("DELETE FROM indicators WHERE id = @id", new { id }, ct);

    /// <summary>How many values the indicator has, and how many ratios it is a part of.</summary>
    public Task<(long Values, long Ratios)> UsageAsync(Tx tx, long id, CancellationToken ct)
        => tx.QuerySingleAsync<(long, long)>(UsageSql, new { id }, ct);

    /// <summary>A would-be part of a ratio: its id, value type and frequency as stored; null when no such indicator exists.</summary>
    public async Task<(long Id, string ValueType, string Frequency)?> PartAsync(Tx tx, string code, CancellationToken ct)
        => await tx.QuerySingleOrDefaultAsync<(long Id, string ValueType, string Frequency)>(PartSql, new { code }, ct) is { Id: > 0 } part
            ? part : null;

    /// <summary>The reporters, issues and measures that <paramref name="fields"/> link to but do not exist, in one round trip.</summary>
    public async Task<(IReadOnlyList<string> Units, IReadOnlyList<string> Issues, IReadOnlyList<string> Measures)> MissingLinksAsync(Tx tx,
        IndicatorFields fields, CancellationToken ct)
    {
        using var results =
            await tx.Connection.QueryMultipleAsync(new CommandDefinition(MissingLinksSql, Links(0, fields), tx.Transaction, cancellationToken: ct));
        var units = (await results.ReadAsync<string>()).AsList();
        var issues = (await results.ReadAsync<string>()).AsList();
        return (units, issues, (await results.ReadAsync<string>()).AsList());
    }

    /// <summary>Makes the indicator's reporters, issues and measures those of <paramref name="fields"/>.</summary>
    public Task SaveLinksAsync(Tx tx, long id, IndicatorFields fields, CancellationToken ct) => tx.ExecuteAsync(SaveLinksSql, Links(id, fields), ct);

    static object Links(long id, IndicatorFields fields) => new
    {
        id, reporters = fields.Reporters.Distinct().ToArray(), issues = fields.Issues.Distinct().ToArray(),
            measures = fields.Measures.Distinct().ToArray(),
    };

    static object Parameters(IndicatorFields f, string code, RatioParts parts, DateTime now) => new
    {
        code, f.Name, f.NameEn, f.Description, f.MeasureUnit,
        valueType = EnumText.Format(f.ValueType), frequency = EnumText.Format(f.Frequency),
        regionAggregation = EnumText.Format(f.RegionAggregation), timeAggregation = EnumText.Format(f.TimeAggregation),
        direction = EnumText.Format(f.Direction), f.TargetValue, f.TargetDate, f.BaselineValue, f.BaselinePeriod,
        numeratorId = parts.Numerator, denominatorId = parts.Denominator, reportingDay = (short?)f.ReportingDay, now,
    };

    /// <summary>The ids of a ratio's numerator and denominator; both null for an indicator that is not a ratio.</summary>
    public readonly record struct RatioParts(long? Numerator, long? Denominator);

    const string PartSql = "SELECT id, value_type, frequency FROM indicators WHERE code = @code";

    const string MissingLinksSql = """
        SELECT u FROM unnest(@reporters::text[]) u WHERE NOT EXISTS (SELECT 1 FROM units WHERE code = u);
        SELECT i::text FROM unnest(@issues::bigint[]) i WHERE NOT EXISTS (SELECT 1 FROM issues WHERE id = i);
        SELECT m::text FROM unnest(@measures::bigint[]) m WHERE NOT EXISTS (SELECT 1 FROM measures WHERE id = m);
        """;

    // The definition alone: what reads of values are computed with. Not its links, whose reporters are every reporting
    // unit (thousands at national scale).
    const string DefinitionColumns = """
        i.id, i.code, i.name, i.name_en, i.description, i.measure_unit, i.value_type, i.frequency, i.region_aggregation,
        i.time_aggregation, i.direction, i.target_value, i.target_date, i.baseline_value, i.baseline_period,
        (SELECT code FROM indicators n WHERE n.id = i.numerator_id) AS numerator_code,
        (SELECT code FROM indicators d WHERE d.id = i.denominator_id) AS denominator_code,
        i.reporting_day, i.version, i.created_at, i.updated_at
        """;

    const string Columns = $"""
        {DefinitionColumns},
        ARRAY(SELECT unit_code FROM indicator_reporters r WHERE r.indicator_id = i.id ORDER BY unit_code) AS reporters,
        ARRAY(SELECT issue_id FROM indicator_issues l WHERE l.indicator_id = i.id ORDER BY issue_id) AS issues,
        ARRAY(SELECT measure_id FROM indicator_measures l WHERE l.indicator_id = i.id ORDER BY measure_id) AS measures
        """;

    const string ListSql = $"""
        SELECT {Columns} FROM indicators i
        WHERE (@issue::bigint IS NULL OR EXISTS (SELECT 1 FROM indicator_issues l WHERE l.indicator_id = i.id AND l.issue_id = @issue))
          AND (@measure::bigint IS NULL OR EXISTS (SELECT 1 FROM indicator_measures l WHERE l.indicator_id = i.id AND l.measure_id = @measure))
          AND (@valueType::text IS NULL OR i.value_type = @valueType)
          AND (@pattern::text IS NULL OR i.code ILIKE @pattern OR i.name ILIKE @pattern OR i.name_en ILIKE @pattern)
          AND i.id > @after
        ORDER BY i.id
        LIMIT @limit
        """;

    const string FindSql = $"SELECT {Columns} FROM indicators i WHERE i.code = @code";
    const string FindDefinitionSql = $"SELECT {DefinitionColumns} FROM indicators i WHERE i.code = @code";
    const string LockSql = $"SELECT {Columns} FROM indicators i WHERE i.code = @code FOR UPDATE OF i";

    const string InsertSql = """
        INSERT INTO indicators (code, name, name_en, description, measure_unit, value_type, frequency, region_aggregation,
                                time_aggregation, direction, target_value, target_date, baseline_value, baseline_period,
                                numerator_id, denominator_id, reporting_day, created_at, updated_at)
        VALUES (@code, @name, @nameEn, @description, @measureUnit, @valueType, @frequency, @regionAggregation,
                @timeAggregation, @direction, @targetValue, @targetDate, @baselineValue, @baselinePeriod,
                @numeratorId, @denominatorId, @reportingDay, @now, @now)
        RETURNING id
        """;

    const string UpdateSql = """
        UPDATE indicators
        SET name = @name, name_en = @nameEn, description = @description, measure_unit = @measureUnit, value_type = @valueType,
            frequency = @frequency, region_aggregation = @regionAggregation, time_aggregation = @timeAggregation,
            direction = @direction, target_value = @targetValue, target_date = @targetDate, baseline_value = @baselineValue,
            baseline_period = @baselinePeriod, numerator_id = @numeratorId, denominator_id = @denominatorId,
            reporting_day = @reportingDay, version = version + 1, updated_at = @now
        WHERE code = @code
        """;

    const string SaveLinksSql = """
        DELETE FROM indicator_reporters WHERE indicator_id = @id AND unit_code <> ALL (@reporters);
        INSERT INTO indicator_reporters (indicator_id, unit_code) SELECT @id, u FROM unnest(@reporters::text[]) u ON CONFLICT DO NOTHING;
        DELETE FROM indicator_issues WHERE indicator_id = @id AND issue_id <> ALL (@issues);
        INSERT INTO indicator_issues (indicator_id, issue_id) SELECT @id, i FROM unnest(@issues::bigint[]) i ON CONFLICT DO NOTHING;
        DELETE FROM indicator_measures WHERE indicator_id = @id AND measure_id <> ALL (@measures);
        INSERT INTO indicator_measures (indicator_id, measure_id) SELECT @id, m FROM unnest(@measures::bigint[]) m ON CONFLICT DO NOTHING;
        """;

    const string UsageSql = """
        SELECT (SELECT count(*) FROM data_values WHERE indicator_id = @id) AS values,
               (SELECT count(*) FROM indicators WHERE numerator_id = @id OR denominator_id = @id) AS ratios
        """;
}
