using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Indicators;

public sealed record SeriesQuery
{
    [Description("Unit (region) code. A parent region without its own value combines its children's as the indicator says (sum or average).")]
    [Required(ErrorMessage = "Name the unit (region) code of the series, e.g. 460000.")]
    public string? Unit { get; init; }

    [Description("First period (of the indicator's frequency); default: eleven periods before the last.")]
    [PeriodText]
    public string? From { get; init; }

    [Description("Last period; default: the latest period with a value.")]
    [PeriodText]
    public string? To { get; init; }
}

/// <summary>One period of a series; a period without a value is present with nulls.</summary>
public sealed record SeriesPoint(
    string Period,
    [property: Description("The value: the unit's own, or its children combined; for a ratio, numerator / denominator (× 100 when the unit of " +
        "measure is %).")]
    decimal? Value,
    [property: Description("Against the previous period. For cumulative (year-to-date) indicators: the period's own amount (the first period of a " +
        "year is its value).")]
    decimal? Change,
    [property: Description("Against the same period a year earlier.")]
    decimal? YearOnYear,
    [property: Description("yearOnYear as a percentage of the value a year earlier.")]
    decimal? YearOnYearPercent,
    [property: Description("Percent of the way from the baseline (or 0) to the target; null without a target.")]
    decimal? TargetProgress);

public sealed record SeriesResponse(
    string Indicator, string Unit, string MeasureUnit, IndicatorFrequency Frequency, TimeAggregation TimeAggregation,
    RegionAggregation RegionAggregation, decimal? TargetValue, IReadOnlyList<SeriesPoint> Points);

/// <summary>
/// The time series of one indicator at one unit, computed on read: children combined, ratios divided, missing
/// periods kept as nulls, changes against the previous period and the same period a year earlier.
/// </summary>
public sealed class IndicatorSeries(Db db, IndicatorRepository indicators, Infrastructure.Auth.Caller caller, ReadCache cache)
{
    const int MaxPeriods = 240;

    /// <summary>The series as JSON (kept by the read cache), for the endpoint.</summary>
    public async Task<KeptJson> ReadJsonAsync(string code, SeriesQuery query, CancellationToken ct)
        => (await cache.GetOrReadJsonAsync<SeriesResponse>(new ReadCacheKey("series", (code, query), caller.ReadableUnits, null),
            async token => (await ReadAsync(code, query, token), null), ct))!;

    public async Task<SeriesResponse> ReadAsync(string code, SeriesQuery query, CancellationToken ct)
    {
        // The definition from memory too: a series that is not kept then costs one round trip, not two.
        var indicator = await cache.GetOrReadAsync(new ReadCacheKey("indicator definition", code, (string?)null, null),
            token => indicators.FindDefinitionAsync(code, token), _ => 1024, ct) ?? throw Refuse.NotFound("indicator", code);
        var unit = query.Unit ?? throw new InvalidOperationException("unit is checked by request validation ([Required]).");
        var frequency = indicator.FrequencyValue;
        var from = ParseOrNull(query.From, "from", frequency);
        var to = ParseOrNull(query.To, "to", frequency);
        var ratio = indicator.ValueType == "ratio";

        var aggregation = EnumText.Parse<RegionAggregation>(indicator.RegionAggregation);
        var parts = ratio ? new[] { indicator.NumeratorCode!, indicator.DenominatorCode! } : [code];
        // Only the periods the points need: from (or eleven before to) back to a year and a period earlier, for the changes.
        var oldest = (from ?? (to is { } end ? end.Back(11) : null))?.YearBefore().Previous();

        // Only the bounds and the limit to readable units that apply: one prepared plan per combination, no null parameters.
        var bounds = new ListFilters().With("unit", unit).With("codes", parts)
            .Where("oldest", oldest?.ToString(), "period >= @oldest")
            .Where("newest", to?.ToString(), "period <= @newest");
        var limitedTo = new ListFilters(bounds.Args).Where("readable", caller.ReadableUnits, "@unit IN (SELECT units_under(@readable))");
        return await db.ReadAsync(async (connection, token) =>
        {
            // One round trip: whether the unit exists and may be read, then one row per part and period from the unit's
            // own values and its roll-ups (its sub-units combined, kept by the push): never the sub-units' rows.
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(ReadSql(bounds.Sql, limitedTo.Sql), bounds.Args,
                cancellationToken: token));
            var access = await results.ReadSingleAsync<(bool Known, bool Readable)>();
            if (!access.Known) throw Refuse.NotFound("unit", unit);
            if (!access.Readable)
                throw Refuse.Forbidden($"Unit '{unit}' is outside the units this client may read ({string.Join(", ", caller.ReadableUnits ?? [])}).");
            var figures = (await results.ReadAsync<StoredFigure>()).AsList();

            var known = figures.Select(v => Period.TryParse(v.Period, frequency)).OfType<Period>().ToList();
            var last = to
                ?? (known.Count > 0
                ? known.Max() : throw Refuse.Invalid("to", "The indicator has no values here yet: name the periods with from and to."));
            var first = from ?? last.Back(11);
            if (first > last) throw Refuse.Invalid("from", "from must not be after to.");
            var periods = new List<Period>();
            for (var p = first; p <= last; p = p.Next())
            {
                periods.Add(p);
                if (periods.Count > MaxPeriods) throw Refuse.Invalid("from", $"A series has at most {MaxPeriods} periods.");
            }

            var atUnit = new UnitFigures(figures);
            decimal? ValueAt(Period p) => atUnit.Of(indicator, p.ToString());

            var timeAggregation = EnumText.Parse<TimeAggregation>(indicator.TimeAggregation);
            var points = periods.Select(p =>
            {
                var value = ValueAt(p);
                var previous = timeAggregation == TimeAggregation.Cumulative && p.IsFirstOfYear ? 0 : ValueAt(p.Previous());
                var yearBefore = ValueAt(p.YearBefore());
                return new SeriesPoint(p.ToString(), value, Computed(() => value - previous), Computed(() => value - yearBefore),
                    yearBefore is { } y && y != 0 && value is { } v ? Computed(() => Math.Round((v - y) / Math.Abs(y) * 100, 2)) : null,
                    Progress(indicator, value));
            }).ToList();
            return new SeriesResponse(code, unit, indicator.MeasureUnit, frequency, timeAggregation, aggregation, indicator.TargetValue, points);
        }, ct);
    }

    static Period? ParseOrNull(string? text, string field, IndicatorFrequency frequency)
        => text is null ? null : Period.TryParse(text, frequency)
            ?? throw Refuse.Invalid(field, $"Use the indicator's frequency: {Period.Example(frequency)}.");

    static decimal? Divide(decimal? numerator, decimal? denominator, bool percent)
        => numerator is { } n && denominator is { } d && d != 0 ? Computed(() => Math.Round(n / d * (percent ? 100 : 1), 4)) : null;

    internal static decimal? Progress(IndicatorRow indicator, decimal? value)
    {
        if (value is not { } v || indicator.TargetValue is not { } target) return null;
        var start = indicator.BaselineValue ?? 0;
        return target == start ? null : Computed(() => Math.Round((v - start) / (target - start) * 100, 2));
    }

    /// <summary>
    /// Arithmetic on stored values can leave decimal's range (±7.9e28): children summed, a ratio or a percentage
    /// with a tiny divisor. Such a figure cannot be given, so it is null, as a missing one is, rather than a 500.
    /// </summary>
    internal static decimal? Computed(Func<decimal?> compute)
    {
        try
        {
            return compute();
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>A part's figures at one unit in one period: its own value, and its sub-units combined (indicator_rollups).</summary>
    internal class StoredFigure
    {
        public string Part { get; init; } = "";
        public string Period { get; init; } = "";
        public decimal? Own { get; init; }
        public decimal? Total { get; init; }
        public decimal? Mean { get; init; }
    }

    /// <summary>
    /// Indicators' values at one unit from its own values and its roll-ups: the unit's own, else its sub-units combined
    /// as the indicator says (the roll-up's total for sum, mean for average, nothing for none); a ratio divides its
    /// parts, each combined as the ratio says. The same figures as <see cref="UnitValues"/> computes from the subtree's
    /// values, which the roll-ups are kept equal to (migration 0008).
    /// </summary>
    internal sealed class UnitFigures(IEnumerable<StoredFigure> figures)
    {
        readonly Dictionary<(string Part, string Period), StoredFigure> _figures = figures.ToDictionary(f => (f.Part, f.Period));

        public decimal? Of(IndicatorRow indicator, string period)
        {
            var aggregation = EnumText.Parse<RegionAggregation>(indicator.RegionAggregation);
            decimal? At(string part) => _figures.TryGetValue((part, period), out var f)
                ? f.Own ?? aggregation switch { RegionAggregation.Sum => f.Total, RegionAggregation.Average => f.Mean, _ => null }
                : null;
            return indicator.ValueType == "ratio"
                ? Divide(At(indicator.NumeratorCode!), At(indicator.DenominatorCode!), indicator.MeasureUnit == "%")
                : At(indicator.Code);
        }

        /// <summary>
        /// The <see cref="StoredFigure"/> rows (part, period, own, total, mean) of the parts that the FROM item
        /// <paramref name="partsTable"/> names (alias p, columns id and code) at the unit <paramref name="unitColumn"/>, in
        /// the periods that <paramref name="periodFilter"/> keeps: index range scans, one row per part and period.
        /// </summary>
        internal static string Sql(string partsTable, string unitColumn, string periodFilter) => $"""
            SELECT p.code AS part, f.period, f.own, f.total, f.mean
            FROM {partsTable}
            CROSS JOIN LATERAL (
                SELECT coalesce(v.period, r.period) AS period, v.value AS own, r.total, r.mean
                FROM (SELECT period, value FROM data_values WHERE indicator_id = p.id AND unit_code = {unitColumn} AND {periodFilter}) v
                FULL JOIN (SELECT period, total, mean FROM indicator_rollups
                    WHERE indicator_id = p.id AND unit_code = {unitColumn} AND {periodFilter}) r
                    ON r.period = v.period
            ) f
            """;
    }

    /// <summary>
    /// Indicators' values at one unit, from the stored values of its subtree (parts' values for ratios): the unit's own,
    /// else its sub-units combined as the indicator says; a ratio divides its parts. The series, the snapshots and the
    /// dashboard all compute figures this one way.
    /// </summary>
    internal sealed class UnitValues
    {
        readonly IReadOnlyList<(string Code, string? Parent)> _units;
        readonly string? _unit;
        readonly Dictionary<(string Part, string Period), Dictionary<string, decimal>> _stored;
        readonly Dictionary<RegionAggregation, UnitTree> _trees = [];

        /// <param name="unit">The unit the figures are for; null gives no figures (a round without a region).</param>
        /// <param name="stored">Stored values of the indicators (or ratio parts) by indicator code, unit and period.</param>
        public UnitValues(IReadOnlyList<(string Code, string? Parent)> units, string? unit,
            IEnumerable<(string Indicator, string Unit, string Period, decimal Value)> stored)
        {
            (_units, _unit) = (units, unit);
            _stored = stored.GroupBy(v => (v.Indicator, v.Period)).ToDictionary(g => g.Key, g => g.ToDictionary(v => v.Unit, v => v.Value));
        }

        public decimal? Of(IndicatorRow indicator, string period)
        {
            if (_unit is not { } unit) return null;
            var aggregation = EnumText.Parse<RegionAggregation>(indicator.RegionAggregation);
            if (!_trees.TryGetValue(aggregation, out var tree)) _trees[aggregation] = tree = new UnitTree(_units, aggregation);
            decimal? At(string part) => _stored.TryGetValue((part, period), out var own) ? tree.Value(unit, own) : null;
            return indicator.ValueType == "ratio"
                ? Divide(At(indicator.NumeratorCode!), At(indicator.DenominatorCode!), indicator.MeasureUnit == "%")
                : At(indicator.Code);
        }
    }

    /// <summary>A unit's value: its own when reported, else its children's combined (recursively), else null.</summary>
    sealed class UnitTree(IReadOnlyList<(string Code, string? Parent)> units, RegionAggregation aggregation)
    {
        readonly ILookup<string?, string> _children = units.ToLookup(u => u.Parent, u => u.Code);

        public decimal? Value(string unit, IReadOnlyDictionary<string, decimal> own)
        {
            if (own.TryGetValue(unit, out var value)) return value;
            if (aggregation == RegionAggregation.None) return null;
            var parts = _children[unit].Select(child => Value(child, own)).OfType<decimal>().ToList();
            if (parts.Count == 0) return null;
            return Computed(() => aggregation == RegionAggregation.Sum ? parts.Sum() : Math.Round(parts.Average(), 4));
        }
    }

    // A region combines its sub-regions only: the department filed under the province is an organisation that
    // reports province-wide figures, and adding (or averaging) them in would count the province twice. A
    // department, in turn, combines its divisions.
    internal const string SubtreeCte = """
        subtree AS (
            SELECT code, parent_code, kind FROM units WHERE code = @unit
            UNION ALL
            SELECT u.code, u.parent_code, u.kind FROM units u JOIN subtree s ON u.parent_code = s.code
            WHERE s.kind NOT IN ('province', 'city', 'district', 'county') OR u.kind IN ('province', 'city', 'district', 'county')
        )
        """;

    internal const string SubtreeSql = $"WITH RECURSIVE {SubtreeCte}\nSELECT code, parent_code FROM subtree";

    static string ReadSql(string periodFilter, string readable) => $"""
        SELECT EXISTS (SELECT 1 FROM units WHERE code = @unit) AS known, ({readable}) AS readable;
        {UnitFigures.Sql("indicators p", "@unit", periodFilter)}
        WHERE p.code = ANY (@codes)
        """;
}
