using System.Text.Json;
using System.Text.Json.Serialization;
using Rectify.Api.Features.DataValues;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.DemoData;

/// <summary>
/// The indicators of the reference case (<c>indicators.jsonc</c>): the report's figures as indicators, with their
/// reporters, links to issues and measures, and values. <see cref="ReferenceCaseLoader"/> runs this inside its own
/// transaction and advisory lock, after the units, issues and measures these rows point to, so that one demo load
/// is one atomic change.
/// </summary>
static class IndicatorDemoLoader
{
    const string ResourceName = "Rectify.Api.DemoData.indicators.jsonc";
    const string Source = "demo-data";

    public static IndicatorDemoFile Read()
    {
        using var stream = typeof(IndicatorDemoLoader).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        return JsonSerializer.Deserialize<IndicatorDemoFile>(stream, Options)
            ?? throw new InvalidOperationException("The indicator demo data is empty.");
    }

    static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        // A forgotten list or field fails the read instead of loading as null.
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>
    /// Checks what the schema cannot: links the inserts resolve by joining on codes (a typo there would drop the
    /// row silently), duplicates (ON CONFLICT DO NOTHING would drop the second silently), ratios and periods.
    /// Column formats and allowed words are left to the table's constraints.
    /// </summary>
    public static void Validate(IndicatorDemoFile file, IReadOnlySet<string> units, IReadOnlySet<string> issues, IReadOnlySet<string> measures)
    {
        var errors = new List<string>();
        var byCode = new Dictionary<string, DemoIndicator>(StringComparer.Ordinal);
        foreach (var indicator in file.Indicators)
        {
            if (!byCode.TryAdd(indicator.Code, indicator)) errors.Add($"{indicator.Code}: the code appears twice.");
        }
        foreach (var i in file.Indicators)
        {
            var isRatio = i.ValueType == "ratio";
            var hasBothParts = i.Numerator is not null && i.Denominator is not null;
            var hasAnyPart = i.Numerator is not null || i.Denominator is not null;
            if (isRatio ? !hasBothParts : hasAnyPart)
                errors.Add($"{i.Code}: a ratio, and only a ratio, has both a numerator and a denominator.");
            foreach (var part in new[] { i.Numerator, i.Denominator }.OfType<string>())
            {
                if (!byCode.TryGetValue(part, out var p)) errors.Add($"{i.Code}: no indicator '{part}' in the file.");
                else if (p.ValueType == "ratio") errors.Add($"{i.Code}: '{part}' is a ratio itself.");
            }
            // A ratio is computed from its parts: values pushed for it would contradict them.
            if (isRatio && i.Values.Count > 0) errors.Add($"{i.Code}: a ratio has no values of its own.");
            if (!Frequencies.TryGetValue(i.Frequency, out var frequency))
            {
                errors.Add($"{i.Code}: unknown frequency '{i.Frequency}'.");
                continue;
            }
            if (i.BaselinePeriod is not null && Period.TryParse(i.BaselinePeriod, frequency) is null)
                errors.Add($"{i.Code}: baseline period '{i.BaselinePeriod}' is not {i.Frequency}.");
            errors.AddRange(Duplicates(i.Reporters).Select(u => $"{i.Code}: reporter {u} appears twice."));
            errors.AddRange(Duplicates(i.Issues).Select(u => $"{i.Code}: issue {u} appears twice."));
            errors.AddRange(Duplicates(i.Measures).Select(u => $"{i.Code}: measure {u} appears twice."));
            errors.AddRange(Duplicates(i.Values.Select(v => $"{v.Unit} {v.Period}")).Select(k => $"{i.Code}: value {k} appears twice."));
            errors.AddRange(i.Reporters.Where(u => !units.Contains(u)).Select(u => $"{i.Code}: reporter {u} is no unit of the reference case."));
            errors.AddRange(i.Issues.Where(c => !issues.Contains(c)).Select(c => $"{i.Code}: issue {c} is not in the reference round."));
            errors.AddRange(i.Measures.Where(c => !measures.Contains(c)).Select(c => $"{i.Code}: measure {c} is not in the reference round."));
            foreach (var v in i.Values)
            {
                if (Period.TryParse(v.Period, frequency) is null) errors.Add($"{i.Code}: period '{v.Period}' is not {i.Frequency}.");
                // The reporters are the units expected to report: a value from anyone else would show them as
                // complete while the value's own unit is never asked for.
                if (!i.Reporters.Contains(v.Unit)) errors.Add($"{i.Code}: value for {v.Unit}, which is no reporter.");
            }
        }
        if (errors.Count > 0) throw new InvalidOperationException("The indicator demo data is inconsistent:\n" + string.Join("\n", errors));
    }

    // The table's own words, exactly (Enum.TryParse would also take "1" or "Monthly", which the table refuses).
    static readonly Dictionary<string, IndicatorFrequency> Frequencies = new(StringComparer.Ordinal)
    {
        ["monthly"] = IndicatorFrequency.Monthly,
        ["quarterly"] = IndicatorFrequency.Quarterly,
        ["yearly"] = IndicatorFrequency.Yearly,
    };

    static IEnumerable<string> Duplicates(IEnumerable<string> items)
        => items.GroupBy(x => x, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key);

    /// <summary>
    /// Inserts the indicators whose code is absent, then the reporters, links and values of those indicators only.
    /// An indicator already present is left as it is with everything hanging off it, so a value that a caller
    /// deleted or corrected stays that way at the next start-up; loading twice inserts nothing.
    /// </summary>
    public static async Task<(int Indicators, int Values)> LoadAsync(Tx tx, IndicatorDemoFile file, string round, Clock clock, CancellationToken ct)
    {
        var now = clock.UtcNow;
        // Parts first: a ratio's numerator_id and denominator_id are looked up by code, so they must exist.
        var parts = await InsertIndicatorsAsync(tx, file.Indicators.Where(i => i.ValueType != "ratio").ToList(), now, ct);
        var ratios = await InsertIndicatorsAsync(tx, file.Indicators.Where(i => i.ValueType == "ratio").ToList(), now, ct);
        var inserted = parts.Concat(ratios).ToDictionary(x => x.Code, x => x.Id, StringComparer.Ordinal);
        var fresh = file.Indicators.Where(i => inserted.ContainsKey(i.Code)).ToList();
        if (fresh.Count == 0) return (0, 0);

        var reporters = fresh.SelectMany(i => i.Reporters.Select(u => (Id: inserted[i.Code], Unit: u))).ToList();
        await tx.ExecuteAsync(ReportersSql, new
        {
            ids = reporters.Select(r => r.Id).ToArray(),
            units = reporters.Select(r => r.Unit).ToArray(),
        }, ct);
        var issueLinks = fresh.SelectMany(i => i.Issues.Select(c => (Id: inserted[i.Code], Issue: c))).ToList();
        await tx.ExecuteAsync(IssuesSql, new
        {
            round,
            ids = issueLinks.Select(l => l.Id).ToArray(),
            issueCodes = issueLinks.Select(l => l.Issue).ToArray(),
        }, ct);
        // "issueCode/measureCode": measure codes are unique within their issue only.
        var measureLinks = fresh.SelectMany(i => i.Measures.Select(m => (Id: inserted[i.Code], Key: m.Split('/', 2)))).ToList();
        await tx.ExecuteAsync(MeasuresSql, new
        {
            round,
            ids = measureLinks.Select(l => l.Id).ToArray(),
            issueCodes = measureLinks.Select(l => l.Key[0]).ToArray(),
            measureCodes = measureLinks.Select(l => l.Key.Length > 1 ? l.Key[1] : "").ToArray(),
        }, ct);
        var values = fresh.SelectMany(i => i.Values.Select(v => (Id: inserted[i.Code], Value: v))).ToList();
        // The values feed the roll-ups as a push's would (only the fresh indicators' keys, which no push can touch yet).
        await tx.ExecuteAsync(DataValueMerge.RollupDirtySql, null, ct);
        var valueCount = (int)await tx.QuerySingleAsync<long>(ValuesSql, new
        {
            ids = values.Select(v => v.Id).ToArray(),
            units = values.Select(v => v.Value.Unit).ToArray(),
            periods = values.Select(v => v.Value.Period).ToArray(),
            values = values.Select(v => v.Value.Value).ToArray(),
            comments = values.Select(v => v.Value.Comment).ToArray(),
            stamps = values.Select(v => ReceivedAt(v.Value.Period, clock)).ToArray(),
            source = Source,
        }, ct);
        await DataValueMerge.RefreshRollupsAsync(tx, ct);
        return (inserted.Count, valueCount);
    }

    /// <summary>
    /// When the office received a value, as the demo tells it: 09:00 in the configured time zone on the first day after
    /// the value's period, before any reporting deadline (reportingDay, at least the 1st, of the month after the period),
    /// so that the reference month reads as reported on time. A period not over yet at load time is stamped now.
    /// </summary>
    internal static DateTime ReceivedAt(string period, Clock clock)
    {
        var firstDayAfter = (Period.TryParse(period) ?? throw new InvalidOperationException($"'{period}' is no period.")).LastDay.AddDays(1);
        var received = clock.StartOfDayUtc(firstDayAfter).AddHours(9);
        return received < clock.UtcNow ? received : clock.UtcNow;
    }

    static async Task<IReadOnlyList<(long Id, string Code)>> InsertIndicatorsAsync(Tx tx, IReadOnlyList<DemoIndicator> rows, DateTime now,
        CancellationToken ct)
    {
        if (rows.Count == 0) return [];
        var inserted = await tx.QueryAsync<(long Id, string Code)>(IndicatorsSql, new
        {
            codes = rows.Select(i => i.Code).ToArray(),
            names = rows.Select(i => i.Name).ToArray(),
            namesEn = rows.Select(i => i.NameEn).ToArray(),
            descriptions = rows.Select(i => i.Description).ToArray(),
            measureUnits = rows.Select(i => i.MeasureUnit).ToArray(),
            valueTypes = rows.Select(i => i.ValueType).ToArray(),
            frequencies = rows.Select(i => i.Frequency).ToArray(),
            regionAggregations = rows.Select(i => i.RegionAggregation).ToArray(),
            timeAggregations = rows.Select(i => i.TimeAggregation).ToArray(),
            directions = rows.Select(i => i.Direction).ToArray(),
            targetValues = rows.Select(i => i.TargetValue).ToArray(),
            targetDates = rows.Select(i => i.TargetDate).ToArray(),
            baselineValues = rows.Select(i => i.BaselineValue).ToArray(),
            baselinePeriods = rows.Select(i => i.BaselinePeriod).ToArray(),
            reportingDays = rows.Select(i => i.ReportingDay).ToArray(),
            numerators = rows.Select(i => i.Numerator).ToArray(),
            denominators = rows.Select(i => i.Denominator).ToArray(),
            now,
        }, ct);
        return inserted.ToList();
    }

    // One statement for parts and ratios alike: a part has no numerator or denominator and the LEFT JOINs find
    // nothing; a ratio whose part were missing would get a NULL id and fail indicators_ratio_has_parts loudly.
    const string IndicatorsSql = """
        INSERT INTO indicators (code, name, name_en, description, measure_unit, value_type, frequency, region_aggregation,
                                time_aggregation, direction, target_value, target_date, baseline_value, baseline_period,
                                numerator_id, denominator_id, reporting_day, created_at, updated_at)
        SELECT x.code, x.name, x.name_en, x.description, x.measure_unit, x.value_type, x.frequency, x.region_aggregation,
               x.time_aggregation, x.direction, x.target_value, x.target_date, x.baseline_value, x.baseline_period,
               n.id, d.id, x.reporting_day, @now, @now
        FROM unnest(@codes::text[], @names::text[], @namesEn::text[], @descriptions::text[], @measureUnits::text[],
                    @valueTypes::text[], @frequencies::text[], @regionAggregations::text[], @timeAggregations::text[],
                    @directions::text[], @targetValues::numeric[], @targetDates::date[], @baselineValues::numeric[],
                    @baselinePeriods::text[], @reportingDays::int[], @numerators::text[], @denominators::text[])
             AS x(code, name, name_en, description, measure_unit, value_type, frequency, region_aggregation, time_aggregation,
                  direction, target_value, target_date, baseline_value, baseline_period, reporting_day, numerator, denominator)
        LEFT JOIN indicators n ON n.code = x.numerator
        LEFT JOIN indicators d ON d.code = x.denominator
        ON CONFLICT (code) DO NOTHING
        RETURNING id, code
        """;

    // The rows below belong to indicators inserted by this very load, so nothing can conflict; ON CONFLICT DO
    // NOTHING keeps the statements harmless should that ever change.
    const string ReportersSql = """
        INSERT INTO indicator_reporters (indicator_id, unit_code)
        SELECT * FROM unnest(@ids::bigint[], @units::text[])
        ON CONFLICT DO NOTHING
        """;

    const string IssuesSql = """
        INSERT INTO indicator_issues (indicator_id, issue_id)
        SELECT x.id, i.id
        FROM unnest(@ids::bigint[], @issueCodes::text[]) AS x(id, issue_code)
        JOIN rounds r ON r.code = @round
        JOIN issues i ON i.round_id = r.id AND i.code = x.issue_code
        ON CONFLICT DO NOTHING
        """;

    const string MeasuresSql = """
        INSERT INTO indicator_measures (indicator_id, measure_id)
        SELECT x.id, m.id
        FROM unnest(@ids::bigint[], @issueCodes::text[], @measureCodes::text[]) AS x(id, issue_code, measure_code)
        JOIN rounds r ON r.code = @round
        JOIN issues i ON i.round_id = r.id AND i.code = x.issue_code
        JOIN measures m ON m.issue_id = i.id AND m.code = x.measure_code
        ON CONFLICT DO NOTHING
        """;

    static readonly string ValuesSql = $"""
        WITH written AS (
            INSERT INTO data_values (indicator_id, unit_code, period, value, comment, source, created_at, updated_at)
            SELECT x.id, x.unit, x.period, x.value, x.comment, @source, x.stamp, x.stamp
            FROM unnest(@ids::bigint[], @units::text[], @periods::text[], @values::numeric[], @comments::text[], @stamps::timestamptz[])
                 AS x(id, unit, period, value, comment, stamp)
            ON CONFLICT (indicator_id, unit_code, period) DO NOTHING
            RETURNING indicator_id, unit_code, period
        ),
        {DataValueMerge.NoteDirty("written")}
        SELECT count(*) FROM written
        """;
}

sealed record IndicatorDemoFile(IReadOnlyList<DemoIndicator> Indicators);

/// <summary>One indicator as the file spells it; the words (valueType, frequency, …) are the table's own.</summary>
sealed record DemoIndicator(
    string Code, string Name, string MeasureUnit, string ValueType, string Frequency, string RegionAggregation,
    string TimeAggregation, string Direction, IReadOnlyList<string> Reporters, IReadOnlyList<string> Issues,
    IReadOnlyList<string> Measures, IReadOnlyList<DemoValue> Values,
    string? NameEn = null, string? Description = null, decimal? TargetValue = null, DateOnly? TargetDate = null, decimal? BaselineValue = null,
    string? BaselinePeriod = null, int? ReportingDay = null, string? Numerator = null, string? Denominator = null);

sealed record DemoValue(string Unit, string Period, decimal Value, string? Comment = null);
