using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Indicators;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Rollups;

/// <summary>
/// The roll-ups (indicator_rollups, kept by the push's merge) against a direct aggregate of the leaf values computed
/// here from data_values and the unit tree, independently of the service: after concurrent pushes, revisions,
/// deletions and a unit moved; and the province series answering from them.
/// </summary>
public sealed class RollupTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IndicatorKit _kit = new(app);
    readonly ImportKit _import = new(app);
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly string[] Regions = ["province", "city", "district", "county"];

    // 460000 → 460100 (460105, 460106), 460200 (460202, 460203), 460400; HNMZT (HNMZT.SHSW, HNMZT.SHJZ) under the
    // province: a department, which the province does not add in.
    static readonly string[] Units =
        ["460000", "460100", "460105", "460106", "460200", "460202", "460203", "460400", "HNMZT", "HNMZT.SHSW", "HNMZT.SHJZ"];

    async Task<(string Sum, string Average)> IndicatorsAsync()
    {
        await _kit.RegionsAsync();
        return (await _kit.CreateCodeAsync(IndicatorKit.Body(regionAggregation: "sum")),
            await _kit.CreateCodeAsync(IndicatorKit.Body(regionAggregation: "average")));
    }

    [Fact]
    public async Task Rollups_equal_a_direct_aggregate_of_the_leaf_values_after_concurrent_pushes_over_overlapping_units_and_periods()
    {
        var (sum, average) = await IndicatorsAsync();
        var random = new Random(13);
        string[] periods = ["2025-01", "2025-02", "2025-03", "2025-04"];
        // Eight pushes at once, each over a random half of the units and periods (inner units too: their own value
        // stands for them), so that they overlap on keys and on the units above them.
        var pushes = Enumerable.Range(0, 8).Select(_ => Units.SelectMany(u => periods.Select(p => (Unit: u, Period: p)))
            .Where(_ => random.Next(2) == 0)
            .SelectMany(k => new[] { sum, average }.Select(code => new { indicator = code, unit = k.Unit, period = k.Period, value = Value(random) }))
            .ToArray()).ToList();
        var responses = await Task.WhenAll(pushes.Select(body => _import.PushJsonAsync(body)));
        foreach (var response in responses) await ImportKit.AppliedAsync(response);

        await AssertRollupsMatchLeafValuesAsync(sum, average);
        // The series at the province answers the same figures.
        var expected = await ExpectedAsync([sum, average]);
        foreach (var (code, mean) in new[] { (sum, false), (average, true) })
        {
            var series = await app.Client().GetJsonAsync($"/api/v1/indicators/{code}/series?unit=460000&from=2025-01&to=2025-04");
            var values = series["points"]!.AsArray().Select(p => Text(p!["value"]?.GetValue<decimal>())).ToArray();
            Assert.Equal(periods.Select(p => Text(expected.Effective(code, "460000", p, mean))).ToArray(), values);
        }
    }

    [Fact]
    public async Task Rollups_follow_revisions_and_deletions_and_a_rebuild_finds_them_as_kept()
    {
        var (sum, average) = await IndicatorsAsync();
        var random = new Random(7);
        string[] leaves = ["460105", "460106", "460202", "460203", "460400", "HNMZT.SHSW", "HNMZT.SHJZ"];
        string[] periods = ["2025-01", "2025-02"];
        object[] Rows(IEnumerable<string> units) => units.SelectMany(u => periods.SelectMany(p => new[] { sum, average }
            .Select(code => (object)new { indicator = code, unit = u, period = p, value = Value(random) }))).ToArray();

        await ImportKit.AppliedAsync(await _import.PushJsonAsync(Rows(leaves)));
        await AssertRollupsMatchLeafValuesAsync(sum, average);

        // Revisions: some values change, and the city 460100 gets its own value, which stands for its districts.
        await ImportKit.AppliedAsync(await _import.PushJsonAsync(Rows(["460105", "460203", "460100"])));
        await AssertRollupsMatchLeafValuesAsync(sum, average);

        // Deletions: a whole city's districts (460200 has nothing left to combine), and one of the divisions.
        var gone = new[] { "460202", "460203", "HNMZT.SHSW" }.SelectMany(u => periods.SelectMany(p => new[] { sum, average }
            .Select(code => new { indicator = code, unit = u, period = p }))).ToArray();
        ImportKit.Counts(await ImportKit.AppliedAsync(await _import.PushJsonAsync(gone, "strategy=delete")), gone.Length, deleted: gone.Length);
        await AssertRollupsMatchLeafValuesAsync(sum, average);
        Assert.Equal(0L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM indicator_rollups r JOIN indicators i ON i.id = r.indicator_id WHERE i.code = @sum AND r.unit_code = '460200'",
                new { sum }));

        var kept = await RollupsAsync([sum, average]);
        await app.ScalarAsync<int>("SELECT indicator_rollups_rebuild(); SELECT 1;");
        Assert.Equal(kept, await RollupsAsync([sum, average]));
    }

    [Fact]
    public async Task An_average_rounds_to_four_places_half_to_even_with_the_scale_decimal_gives()
    {
        var (_, average) = await IndicatorsAsync();
        await _kit.PushAsync((average, "460202", "2025-01", 1.0001m), (average, "460203", "2025-01", 1.0000m),
            (average, "460202", "2025-02", -1.0003m), (average, "460203", "2025-02", -1.0000m),
            (average, "460202", "2025-03", 6.00m), (average, "460203", "2025-03", 2m),
            (average, "460202", "2025-04", 1m), (average, "460203", "2025-04", 2m));
        await _kit.PushAsync((average, "460105", "2025-04", 1m), (average, "460106", "2025-04", 1m), (average, "460400", "2025-04", 2m));

        var series = await app.Client().GetJsonAsync($"/api/v1/indicators/{average}/series?unit=460200&from=2025-01&to=2025-04");
        // 1.00005 → 1.0000 and −1.00015 → −1.0002 (half to even); 8.00 / 2 keeps the scale of the sum; 3 / 2 needs one place.
        Assert.Equal(["1.0000", "-1.0002", "4.00", "1.5"],
            series["points"]!.AsArray().Select(p => Text(p!["value"]!.GetValue<decimal>())!).ToArray());
        // The province averages its cities' figures (each rounded), not all districts: (1 + 1.5 + 2) / 3.
        var province = await app.Client().GetJsonAsync($"/api/v1/indicators/{average}/series?unit=460000&from=2025-04&to=2025-04");
        Assert.Equal("1.5", Text(province["points"]![0]!["value"]!.GetValue<decimal>()));
        await AssertRollupsMatchLeafValuesAsync(average, average);
    }

    [Fact]
    public async Task The_province_series_reads_its_roll_up_not_its_sub_units_rows()
    {
        var (sum, _) = await IndicatorsAsync();
        await _kit.PushAsync((sum, "460105", "2025-01", 10m), (sum, "460106", "2025-01", 20m), (sum, "460202", "2025-01", 5m));
        var client = app.Client();
        // Each read reaches PostgreSQL: an answer kept from before the change below would show the old figure whatever is read.
        client.DefaultRequestHeaders.Add("Consistency", "strong");
        async Task<decimal?> ProvinceAsync(string unit) => (await client.GetJsonAsync(
            $"/api/v1/indicators/{sum}/series?unit={unit}&from=2025-01&to=2025-01"))["points"]![0]!["value"]?.GetValue<decimal>();
        Assert.Equal(35m, await ProvinceAsync("460000"));

        // Changed behind the writer's back (no push, so no roll-up kept): the district's own row shows it, the
        // province does not, because it no longer reads the districts' rows.
        await app.ScalarAsync<int>("""
            UPDATE data_values SET value = 1000 WHERE unit_code = '460105' AND indicator_id = (SELECT id FROM indicators WHERE code = @sum);
            SELECT 1;
            """, new { sum });
        Assert.Equal(1000m, await ProvinceAsync("460105"));
        Assert.Equal(35m, await ProvinceAsync("460000"));
        Assert.Equal(30m, await ProvinceAsync("460100"));
    }

    [Fact]
    public async Task Moving_a_unit_or_changing_its_kind_recomputes_the_roll_ups_it_fed_before_and_feeds_now()
    {
        var (sum, average) = await IndicatorsAsync();
        // A tree of this test's own: R → A (A1, A2), B (B1); the moves below leave the other tests' units alone.
        var r = Seed.Unique("MR");
        string a = r + "A", a1 = r + "A1", a2 = r + "A2", b = r + "B", b1 = r + "B1";
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind, parent_code) VALUES (@r, '省', 'province', NULL);
            INSERT INTO units (code, name, kind, parent_code) VALUES (@a, '甲市', 'city', @r), (@b, '乙市', 'city', @r);
            INSERT INTO units (code, name, kind, parent_code)
            VALUES (@a1, '甲一县', 'county', @a), (@a2, '甲二县', 'county', @a), (@b1, '乙一县', 'county', @b);
            SELECT 1;
            """, new { r, a, b, a1, a2, b1 });
        foreach (var code in new[] { sum, average })
            await _kit.PushAsync((code, a1, "2025-01", 1m), (code, a2, "2025-01", 2m), (code, b1, "2025-01", 4m), (code, a2, "2025-02", 8m));
        await AssertRollupsMatchLeafValuesAsync(sum, average);

        await app.ScalarAsync<int>("UPDATE units SET parent_code = @b WHERE code = @a2; SELECT 1;", new { a2, b });
        await AssertRollupsMatchLeafValuesAsync(sum, average);
        Assert.Equal(6m, await app.ScalarAsync<decimal>(
            "SELECT total FROM indicator_rollups r JOIN indicators i ON i.id = r.indicator_id WHERE i.code = @sum AND unit_code = @b AND period = " +
                "'2025-01'", new { sum, b }));

        // City B becomes a department: the province, a region, no longer adds it in.
        await app.ScalarAsync<int>("UPDATE units SET kind = 'department' WHERE code = @b; SELECT 1;", new { b });
        await AssertRollupsMatchLeafValuesAsync(sum, average);
        var series = await app.Client().GetJsonAsync($"/api/v1/indicators/{sum}/series?unit={r}&from=2025-01&to=2025-02");
        Assert.Equal([1m, null], series["points"]!.AsArray().Select(p => p!["value"]?.GetValue<decimal>()).ToArray());
    }

    /// <summary>A value with 0 to 4 decimal places, some negative.</summary>
    static decimal Value(Random random) => Math.Round((decimal)(random.NextDouble() * 2000 - 400), random.Next(5));

    static string? Text(decimal? value) => value?.ToString(CultureInfo.InvariantCulture);

    async Task AssertRollupsMatchLeafValuesAsync(params string[] codes)
    {
        var expected = (await ExpectedAsync(codes)).Rollups();
        var actual = await RollupsAsync(codes);
        Assert.Equal(expected, actual);
    }

    /// <summary>The stored roll-ups of <paramref name="codes"/>, as text (so that the scale counts too), in key order.</summary>
    async Task<List<string>> RollupsAsync(string[] codes)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        var rows = await connection.QueryAsync<(string Code, string Unit, string Period, decimal? Total, decimal? Mean)>(new CommandDefinition("""
            SELECT i.code, r.unit_code, r.period, r.total, r.mean
            FROM indicator_rollups r JOIN indicators i ON i.id = r.indicator_id
            WHERE i.code = ANY (@codes)
            """, new { codes = codes.Distinct().ToArray() }, cancellationToken: Ct));
        return rows.Select(x => $"{x.Code} {x.Unit} {x.Period} total={Text(x.Total)} mean={Text(x.Mean)}").Order(StringComparer.Ordinal).ToList();
    }

    async Task<LeafAggregate> ExpectedAsync(string[] codes)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        var units = (await connection.QueryAsync<(string Code, string? Parent, string Kind)>(new CommandDefinition(
            "SELECT code, parent_code, kind FROM units", cancellationToken: Ct))).ToList();
        var values = (await connection.QueryAsync<(string Code, string Unit, string Period, decimal Value)>(new CommandDefinition("""
            SELECT i.code, d.unit_code, d.period, d.value FROM data_values d JOIN indicators i ON i.id = d.indicator_id WHERE i.code = ANY (@codes)
            """, new { codes = codes.Distinct().ToArray() }, cancellationToken: Ct))).ToList();
        return new LeafAggregate(units, values);
    }

    /// <summary>
    /// The figures straight from the leaf values, as the series defines them: a unit's own value, else its sub-units'
    /// figures combined (a region combines regions only) — summed, or averaged and rounded to four places — else none.
    /// </summary>
    sealed class LeafAggregate(List<(string Code, string? Parent, string Kind)> units,
        List<(string Code, string Unit, string Period, decimal Value)> values)
    {
        readonly Dictionary<(string, string, string), decimal> _own = values.ToDictionary(v => (v.Code, v.Unit, v.Period), v => v.Value);
        readonly Dictionary<string, string> _kind = units.ToDictionary(u => u.Code, u => u.Kind);
        readonly ILookup<string?, string> _children = units.ToLookup(u => u.Parent, u => u.Code);

        IEnumerable<string> Combined(string unit) => _children[unit].Where(c => !Regions.Contains(_kind[unit]) || Regions.Contains(_kind[c]));

        public decimal? Effective(string code, string unit, string period, bool mean)
            => _own.TryGetValue((code, unit, period), out var own) ? own : Combine(code, unit, period, mean);

        decimal? Combine(string code, string unit, string period, bool mean)
        {
            var parts = Combined(unit).Select(c => Effective(code, c, period, mean)).OfType<decimal>().ToList();
            if (parts.Count == 0) return null;
            return mean ? Math.Round(parts.Average(), 4) : parts.Sum();
        }

        public List<string> Rollups()
        {
            var keys = values.Select(v => (v.Code, v.Period)).Distinct();
            return keys.SelectMany(k => units.Select(u => (k.Code, Unit: u.Code, k.Period)))
                .Select(k => (Key: k, Total: Combine(k.Code, k.Unit, k.Period, false), Mean: Combine(k.Code, k.Unit, k.Period, true)))
                .Where(x => x.Total is not null)
                .Select(x => $"{x.Key.Code} {x.Key.Unit} {x.Key.Period} total={Text(x.Total)} mean={Text(x.Mean)}")
                .Order(StringComparer.Ordinal).ToList();
        }
    }
}
