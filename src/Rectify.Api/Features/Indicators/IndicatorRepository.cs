using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Indicators;

public sealed class IndicatorRepository(Db db, Journal.Journal journal, Clock clock)
{
    public Task<Page<IndicatorResponse>> ListAsync(IndicatorListQuery query, CancellationToken ct)
    {
        var args = new
        {
            issue = query.Issue,
            measure = query.Measure,
            valueType = QueryEnums.Checked<IndicatorValueType>(query.ValueType, "valueType"),
            pattern = TextSearch.ContainsPattern(query.Q),
            after = query.After,
            limit = query.EffectiveLimit + 1,
        };
        return db.PageAsync(ListSql, args, query, (IndicatorRow r) => (object)r.Id, r => r.ToResponse(), ct);
    }

    public Task<(IndicatorResponse Indicator, int Version)?> FindAsync(string code, CancellationToken ct)
        => db.ReadAsync<(IndicatorResponse, int)?>(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<IndicatorRow>(new CommandDefinition(FindSql, new { code }, cancellationToken: token)) is { } row
                ? (row.ToResponse(), row.Version)
                : null, ct);

    /// <summary>The stored definition (frequency, aggregation, ratio parts) that reads of values are computed with.</summary>
    internal Task<IndicatorRow?> FindRowAsync(string code, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<IndicatorRow>(new CommandDefinition(FindSql, new { code }, cancellationToken: token)), ct);

    public async Task<(IndicatorResponse Indicator, int Version)> CreateAsync(Tx tx, CreateIndicatorRequest request, CancellationToken ct)
    {
        Validate(request);
        var (numeratorId, denominatorId) = await RatioPartsAsync(tx, request, ct);
        var id = await tx.QuerySingleAsync<long>(InsertSql, Parameters(request, request.Code, numeratorId, denominatorId), ct);
        await SaveLinksAsync(tx, id, request, ct);
        var created = await tx.QuerySingleAsync<IndicatorRow>(FindSql, new { code = request.Code }, ct);
        await journal.RecordAsync(tx, "indicator", created.Code, "create", null, created.ToResponse(), ct);
        return (created.ToResponse(), created.Version);
    }

    public Task<(IndicatorResponse Indicator, int Version)> UpdateAsync(string code, UpdateIndicatorRequest request, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            Validate(request);
            var before = await Versioned.LockAsync<IndicatorRow>(tx, LockSql, new { code }, expectedVersion, "indicator", code, token);
            await EnsureShapeKeptAsync(tx, before, request, token);
            var (numeratorId, denominatorId) = await RatioPartsAsync(tx, request, token);
            if (numeratorId == before.Id || denominatorId == before.Id)
                throw Refuse.DoesNotFit(numeratorId == before.Id ? "numerator" : "denominator", "A ratio cannot be a part of itself.");
            await tx.ExecuteAsync(UpdateSql, Parameters(request, code, numeratorId, denominatorId), token);
            await SaveLinksAsync(tx, before.Id, request, token);
            var after = await tx.QuerySingleAsync<IndicatorRow>(FindSql, new { code }, token);
            await journal.RecordAsync(tx, "indicator", code, "update", before.ToResponse(), after.ToResponse(), token);
            return (after.ToResponse(), after.Version);
        }, ct);

    /// <summary>Deletes an indicator that has no values and is no part of a ratio (409 otherwise).</summary>
    public Task DeleteAsync(string code, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = await Versioned.LockAsync<IndicatorRow>(tx, LockSql, new { code }, expectedVersion, "indicator", code, token);
            var usage = await tx.QuerySingleAsync<(long Values, long Ratios)>(UsageSql, new { id = before.Id }, token);
            if (usage.Values > 0) throw Refuse.Conflict($"Indicator '{code}' has {usage.Values} values: delete them first (strategy=delete).");
            if (usage.Ratios > 0) throw Refuse.Conflict($"Indicator '{code}' is a part of a ratio indicator: change or delete that first.");
            await tx.ExecuteAsync("DELETE FROM indicators WHERE id = @id", new { id = before.Id }, token);
            await journal.RecordAsync(tx, "indicator", code, "delete", before.ToResponse(), null, token);
            return true;
        }, ct);

    /// <summary>Rules across fields, answered as 400s naming the field before anything is written.</summary>
    static void Validate(IndicatorFields fields)
    {
        var errors = new Dictionary<string, string[]>();
        var isRatio = fields.ValueType == IndicatorValueType.Ratio;
        if (isRatio && fields.Numerator is null) errors["numerator"] = ["A ratio indicator needs a numerator."];
        if (isRatio && fields.Denominator is null) errors["denominator"] = ["A ratio indicator needs a denominator."];
        if (!isRatio && fields.Numerator is not null) errors["numerator"] = ["Only a ratio indicator has a numerator."];
        if (!isRatio && fields.Denominator is not null) errors["denominator"] = ["Only a ratio indicator has a denominator."];
        if (isRatio && fields.Numerator is not null && fields.Numerator == fields.Denominator)
            errors["denominator"] = ["The denominator must be another indicator than the numerator."];
        if ((fields.BaselineValue is null) != (fields.BaselinePeriod is null))
            errors["baselinePeriod"] = ["baselineValue and baselinePeriod go together."];
        if (fields.BaselinePeriod is not null && Period.TryParse(fields.BaselinePeriod, fields.Frequency) is null)
            errors["baselinePeriod"] = [$"Use the indicator's frequency: {Period.Example(fields.Frequency)}."];
        if (fields.Reporters.Any(string.IsNullOrWhiteSpace)) errors["reporters"] = ["Unit codes must not be empty."];
        if (errors.Count > 0) throw Refuse.Invalid(errors);
    }

    static async Task<(long? Numerator, long? Denominator)> RatioPartsAsync(Tx tx, IndicatorFields fields, CancellationToken ct)
    {
        if (fields.ValueType != IndicatorValueType.Ratio) return (null, null);
        return (await PartAsync(tx, fields.Numerator!, "numerator", fields.Frequency, ct),
            await PartAsync(tx, fields.Denominator!, "denominator", fields.Frequency, ct));
    }

    static async Task<long> PartAsync(Tx tx, string code, string field, IndicatorFrequency frequency, CancellationToken ct)
    {
        var part = await tx.QuerySingleOrDefaultAsync<(long Id, string ValueType, string Frequency)>(
            "SELECT id, value_type, frequency FROM indicators WHERE code = @code", new { code }, ct);
        if (part.Id == 0) throw Refuse.DoesNotFit(field, $"No indicator '{code}' exists.");
        if (part.ValueType == "ratio") throw Refuse.DoesNotFit(field, $"'{code}' is a ratio itself: a ratio's parts are pushed indicators.");
        // The ratio is divided period by period: parts of another frequency have no value in any of its periods.
        if (part.Frequency != EnumText.Format(frequency))
            throw Refuse.DoesNotFit(field, $"'{code}' is {part.Frequency}: a ratio's parts have the ratio's frequency ({EnumText.Format(frequency)}).");
        return part.Id;
    }

    /// <summary>
    /// Values are stored under periods of the indicator's frequency, and a ratio divides parts of its own frequency
    /// that are pushed: changing the frequency or whether it is a ratio would orphan the values or break the ratio.
    /// </summary>
    static async Task EnsureShapeKeptAsync(Tx tx, IndicatorRow before, IndicatorFields after, CancellationToken ct)
    {
        var changesShape = before.FrequencyValue != after.Frequency || (before.ValueType == "ratio") != (after.ValueType == IndicatorValueType.Ratio);
        if (!changesShape) return;
        var usage = await tx.QuerySingleAsync<(long Values, long Ratios)>(UsageSql, new { id = before.Id }, ct);
        if (usage.Values > 0) throw Refuse.Conflict($"Indicator '{before.Code}' has values: its frequency and whether it is a ratio cannot change.");
        if (usage.Ratios > 0)
            throw Refuse.Conflict($"Indicator '{before.Code}' is a part of a ratio indicator: its frequency and whether it is a ratio cannot change.");
    }

    static async Task SaveLinksAsync(Tx tx, long id, IndicatorFields fields, CancellationToken ct)
    {
        var args = new { id, reporters = fields.Reporters.Distinct().ToArray(), issues = fields.Issues.Distinct().ToArray(), measures = fields.Measures.Distinct().ToArray() };
        await EnsureAllExistAsync(tx, "SELECT u FROM unnest(@reporters::text[]) u WHERE NOT EXISTS (SELECT 1 FROM units WHERE code = u)", args, "reporters", "unit", ct);
        await EnsureAllExistAsync(tx, "SELECT i::text FROM unnest(@issues::bigint[]) i WHERE NOT EXISTS (SELECT 1 FROM issues WHERE id = i)", args, "issues", "issue", ct);
        await EnsureAllExistAsync(tx, "SELECT m::text FROM unnest(@measures::bigint[]) m WHERE NOT EXISTS (SELECT 1 FROM measures WHERE id = m)", args, "measures", "measure", ct);
        await tx.ExecuteAsync(SaveLinksSql, args, ct);
    }

    static async Task EnsureAllExistAsync(Tx tx, string missingSql, object args, string field, string what, CancellationToken ct)
    {
        var missing = (await tx.QueryAsync<string>(missingSql, args, ct)).ToList();
        if (missing.Count > 0) throw Refuse.DoesNotFit(field, $"No {what} {string.Join(", ", missing.Select(m => $"'{m}'"))} exists.");
    }

    object Parameters(IndicatorFields f, string code, long? numeratorId, long? denominatorId) => new
    {
        code, f.Name, f.NameEn, f.Description, f.MeasureUnit,
        valueType = EnumText.Format(f.ValueType), frequency = EnumText.Format(f.Frequency),
        regionAggregation = EnumText.Format(f.RegionAggregation), timeAggregation = EnumText.Format(f.TimeAggregation),
        direction = EnumText.Format(f.Direction), f.TargetValue, f.TargetDate, f.BaselineValue, f.BaselinePeriod,
        numeratorId, denominatorId, reportingDay = (short?)f.ReportingDay, now = clock.UtcNow,
    };

    const string Columns = """
        i.id, i.code, i.name, i.name_en, i.description, i.measure_unit, i.value_type, i.frequency, i.region_aggregation,
        i.time_aggregation, i.direction, i.target_value, i.target_date, i.baseline_value, i.baseline_period,
        (SELECT code FROM indicators n WHERE n.id = i.numerator_id) AS numerator_code,
        (SELECT code FROM indicators d WHERE d.id = i.denominator_id) AS denominator_code,
        i.reporting_day,
        ARRAY(SELECT unit_code FROM indicator_reporters r WHERE r.indicator_id = i.id ORDER BY unit_code) AS reporters,
        ARRAY(SELECT issue_id FROM indicator_issues l WHERE l.indicator_id = i.id ORDER BY issue_id) AS issues,
        ARRAY(SELECT measure_id FROM indicator_measures l WHERE l.indicator_id = i.id ORDER BY measure_id) AS measures,
        i.version, i.created_at, i.updated_at
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
