using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Indicators;

/// <summary>
/// GET /indicators/{code}/series: one point per period with gaps as nulls, change against the previous period,
/// year on year, cumulative indicators, regions combined, ratios computed on read, progress towards the target.
/// </summary>
public sealed class IndicatorSeriesTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IndicatorKit _kit = new(app);
    HttpClient Client => _kit.Client;

    static decimal? D(JsonNode? node) => node?.GetValue<decimal>();

    async Task<JsonNode> SeriesAsync(string code, string unit, string? from = null, string? to = null)
    {
        var query = $"unit={unit}" + (from is null ? "" : $"&from={from}") + (to is null ? "" : $"&to={to}");
        return await Client.GetJsonAsync($"/api/v1/indicators/{code}/series?{query}");
    }

    /// <summary>The values of the points, in order.</summary>
    async Task<decimal?[]> ValuesAsync(string code, string unit, string from, string to)
        => Column(await SeriesAsync(code, unit, from, to), "value");

    static decimal?[] Column(JsonNode series, string field) => series["points"]!.AsArray().Select(p => D(p![field])).ToArray();

    static string[] Periods(JsonNode series) => series["points"]!.AsArray().Select(p => p!["period"]!.GetValue<string>()).ToArray();

    async Task<string> IndicatorAsync(string regionAggregation = "sum", string timeAggregation = "flow", string frequency = "monthly",
        Action<Dictionary<string, object?>>? configure = null)
    {
        await _kit.RegionsAsync();
        var body = IndicatorKit.Body(regionAggregation: regionAggregation, timeAggregation: timeAggregation, frequency: frequency);
        configure?.Invoke(body);
        return await _kit.CreateCodeAsync(body);
    }

    [Fact]
    public async Task Missing_months_are_present_as_nulls_and_change_compares_with_the_previous_month()
    {
        var code = await IndicatorAsync();
        await _kit.PushAsync((code, "460100", "2024-12", 5m), (code, "460100", "2025-01", 10m), (code, "460100", "2025-02", 12.5m),
            (code, "460100", "2025-04", 11m));

        var series = await SeriesAsync(code, "460100", "2025-01", "2025-05");
        Assert.Equal(code, series["indicator"]!.GetValue<string>());
        Assert.Equal("460100", series["unit"]!.GetValue<string>());
        Assert.Equal("万元", series["measureUnit"]!.GetValue<string>());
        Assert.Equal("monthly", series["frequency"]!.GetValue<string>());
        Assert.Equal("flow", series["timeAggregation"]!.GetValue<string>());
        Assert.Equal("sum", series["regionAggregation"]!.GetValue<string>());
        Assert.Null(series["targetValue"]);

        Assert.Equal(["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"], Periods(series));
        Assert.Equal([10m, 12.5m, null, 11m, null], Column(series, "value"));
        Assert.Equal([5m, 2.5m, null, null, null], Column(series, "change")); // January against December; no change across a gap
        Assert.Equal([null, null, null, null, null], Column(series, "yearOnYear"));
        Assert.Equal([null, null, null, null, null], Column(series, "targetProgress"));
        var gap = series["points"]![2]!.AsObject();
        foreach (var field in new[] { "value", "change", "yearOnYear", "yearOnYearPercent", "targetProgress" })
            Assert.True(gap.ContainsKey(field) && gap[field] is null, $"{field} should be present as null: {gap.ToJsonString()}");
    }

    [Fact]
    public async Task Year_on_year_compares_the_same_month_a_year_earlier_absolute_and_in_percent()
    {
        var code = await IndicatorAsync();
        await _kit.PushAsync(
            (code, "460000", "2024-08", 0.70m), (code, "460000", "2024-09", 0.6775m), (code, "460000", "2024-10", 0m),
                (code, "460000", "2024-12", 1m),
            (code, "460000", "2025-01", 0.9m), (code, "460000", "2025-08", 0.79m), (code, "460000", "2025-09", 0.81m),
                (code, "460000", "2025-10", 0.5m));

        var series = await SeriesAsync(code, "460000", "2025-08", "2025-10");
        Assert.Equal([0.79m, 0.81m, 0.5m], Column(series, "value"));
        Assert.Equal([0.09m, 0.1325m, 0.5m], Column(series, "yearOnYear"));
        Assert.Equal([12.86m, 19.56m, null], Column(series, "yearOnYearPercent")); // a year earlier 0: no percentage
        Assert.Equal([null, 0.02m, -0.31m], Column(series, "change"));

        var turn = await SeriesAsync(code, "460000", "2024-12", "2025-01");
        Assert.Equal(["2024-12", "2025-01"], Periods(turn));
        Assert.Equal([null, -0.1m], Column(turn, "change"));
        Assert.Equal([null, null], Column(turn, "yearOnYear"));
    }

    [Fact]
    public async Task A_fall_year_on_year_is_a_negative_change_and_percentage()
    {
        var code = await IndicatorAsync();
        await _kit.PushAsync((code, "460100", "2024-09", 200m), (code, "460100", "2025-09", 150m));
        var series = await SeriesAsync(code, "460100", "2025-09", "2025-09");
        Assert.Equal([-50m], Column(series, "yearOnYear"));
        Assert.Equal([-25m], Column(series, "yearOnYearPercent"));
    }

    [Fact]
    public async Task A_cumulative_indicator_changes_by_the_months_own_amount_and_january_by_its_value()
    {
        var code = await IndicatorAsync(timeAggregation: "cumulative");
        await _kit.PushAsync((code, "460000", "2024-03", 30m), (code, "460000", "2024-12", 100m),
            (code, "460000", "2025-01", 10m), (code, "460000", "2025-02", 25m), (code, "460000", "2025-03", 40m));

        var series = await SeriesAsync(code, "460000", "2024-12", "2025-04");
        Assert.Equal("cumulative", series["timeAggregation"]!.GetValue<string>());
        Assert.Equal([100m, 10m, 25m, 40m, null], Column(series, "value"));
        Assert.Equal([null, 10m, 15m, 15m, null], Column(series, "change")); // January starts the year again: not 10 - 100
        Assert.Equal([null, null, null, 10m, null], Column(series, "yearOnYear")); // year to date against year to date
        Assert.Equal([null, null, null, 33.33m, null], Column(series, "yearOnYearPercent"));
    }

    [Fact]
    public async Task A_parent_without_its_own_value_sums_its_children_and_a_childs_own_value_wins_over_its_children()
    {
        var code = await IndicatorAsync("sum");
        await _kit.PushAsync(
            (code, "460100", "2025-09", 10m), (code, "460105", "2025-09", 3m), (code, "460106", "2025-09", 4m), // 海口: own 10, districts 7
            (code, "460202", "2025-09", 1m), (code, "460203", "2025-09", 2m),                                 // 三亚: districts only
            (code, "460400", "2025-09", 5m),
            (code, "460000", "2025-10", 20m), (code, "460100", "2025-10", 8m));                               // the province's own value

        Assert.Equal([18m, 20m], await ValuesAsync(code, "460000", "2025-09", "2025-10"));
        Assert.Equal([10m, 8m], await ValuesAsync(code, "460100", "2025-09", "2025-10"));
        Assert.Equal([3m, null], await ValuesAsync(code, "460200", "2025-09", "2025-10"));
        Assert.Equal([1m, null], await ValuesAsync(code, "460202", "2025-09", "2025-10"));
        Assert.Equal([2m], Column(await SeriesAsync(code, "460000", "2025-10", "2025-10"), "change")); // own 20 against the cities' 18
    }

    [Fact]
    public async Task A_department_filed_under_the_province_is_no_part_of_the_provinces_regions_but_combines_its_divisions()
    {
        var code = await IndicatorAsync("sum");
        await _kit.PushAsync((code, "460100", "2025-09", 10m), (code, "460400", "2025-09", 5m), (code, "HNMZT", "2025-09", 100m),
            (code, "HNMZT.SHSW", "2025-10", 2m), (code, "HNMZT.SHJZ", "2025-10", 3m));

        Assert.Equal([15m], await ValuesAsync(code, "460000", "2025-09", "2025-09"));
        Assert.Equal([100m, 5m], await ValuesAsync(code, "HNMZT", "2025-09", "2025-10"));
    }

    [Fact]
    public async Task A_parent_without_its_own_value_averages_its_children_when_the_indicator_says_average()
    {
        var code = await IndicatorAsync("average", "stock");
        await _kit.PushAsync(
            (code, "460100", "2025-09", 10m), (code, "460105", "2025-09", 100m),
            (code, "460202", "2025-09", 1m), (code, "460203", "2025-09", 2m),
            (code, "460400", "2025-09", 5m),
            (code, "460105", "2025-10", 1m), (code, "460106", "2025-10", 1m), (code, "460202", "2025-10", 2m));

        Assert.Equal("average", (await SeriesAsync(code, "460000", "2025-09", "2025-09"))["regionAggregation"]!.GetValue<string>());
        Assert.Equal([5.5m, 1.5m], await ValuesAsync(code, "460000", "2025-09", "2025-10")); // (10 + 1.5 + 5) / 3; (1 + 2) / 2
        Assert.Equal([1.5m, 2m], await ValuesAsync(code, "460200", "2025-09", "2025-10"));
        Assert.Equal([10m, 1m], await ValuesAsync(code, "460100", "2025-09", "2025-10"));
    }

    [Fact]
    public async Task An_average_is_rounded_to_four_places()
    {
        var code = await IndicatorAsync("average", "stock");
        await _kit.PushAsync((code, "460100", "2025-09", 1m), (code, "460200", "2025-09", 1m), (code, "460400", "2025-09", 2m));
        Assert.Equal([1.3333m], await ValuesAsync(code, "460000", "2025-09", "2025-09"));
    }

    [Fact]
    public async Task Without_region_aggregation_a_parent_without_its_own_value_is_null()
    {
        var code = await IndicatorAsync("none", "stock");
        await _kit.PushAsync((code, "460105", "2025-09", 3m), (code, "460106", "2025-09", 4m), (code, "460200", "2025-09", 7m),
            (code, "460000", "2025-10", 12.9m));

        Assert.Equal([null, 12.9m], await ValuesAsync(code, "460000", "2025-09", "2025-10"));
        Assert.Equal([null, null], await ValuesAsync(code, "460100", "2025-09", "2025-10"));
        Assert.Equal([7m, null], await ValuesAsync(code, "460200", "2025-09", "2025-10"));
        Assert.Equal([3m, null], await ValuesAsync(code, "460105", "2025-09", "2025-10"));
    }

    [Fact]
    public async Task A_ratio_is_numerator_over_denominator_computed_on_read_and_null_without_a_denominator_or_with_zero()
    {
        await _kit.RegionsAsync();
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(name: "排查发现问题数", valueType: "count", measureUnit: "个", timeAggregation: "stock"));
        var fixedCount =
            await _kit.CreateCodeAsync(IndicatorKit.Body(name: "已整改问题数", valueType: "count", measureUnit: "个", timeAggregation: "stock"));
        var rate = await _kit.CreateCodeAsync(IndicatorKit.RatioBody(fixedCount, found));
        var share = await _kit.CreateCodeAsync(IndicatorKit.RatioBody(fixedCount, found, measureUnit: "比值"));
        await _kit.PushAsync(
            (found, "460000", "2025-09", 596m), (fixedCount, "460000", "2025-09", 558m),
            (found, "460100", "2025-10", 320m), (fixedCount, "460100", "2025-10", 300m),   // the province from its cities
            (found, "460200", "2025-10", 276m), (fixedCount, "460200", "2025-10", 258m),
            (fixedCount, "460000", "2025-11", 560m),                                       // no denominator
            (found, "460000", "2025-12", 0m), (fixedCount, "460000", "2025-12", 0m));      // denominator 0

        var series = await SeriesAsync(rate, "460000", "2025-09", "2026-01");
        Assert.Equal("%", series["measureUnit"]!.GetValue<string>());
        Assert.Equal([93.6242m, 93.6242m, null, null, null], Column(series, "value"));
        Assert.Equal([null, 0m, null, null, null], Column(series, "change"));
        Assert.Equal([93.75m], await ValuesAsync(rate, "460100", "2025-10", "2025-10"));
        Assert.Equal([0.9362m], await ValuesAsync(share, "460000", "2025-09", "2025-09"));
    }

    [Fact]
    public async Task Target_progress_runs_from_zero_or_from_the_baseline_to_the_target()
    {
        var fromZero = await IndicatorAsync(configure: b => b["targetValue"] = 200m);
        var fromBaseline = await IndicatorAsync(configure: b =>
        {
            b["targetValue"] = 200m;
            b["baselineValue"] = 100m;
            b["baselinePeriod"] = "2024-12";
        });
        var lowerIsBetter = await IndicatorAsync(configure: b =>
        {
            b["direction"] = "lower_is_better";
            b["targetValue"] = 50m;
            b["baselineValue"] = 100m;
            b["baselinePeriod"] = "2024-12";
        });
        await _kit.PushAsync((fromZero, "460000", "2025-09", 50m), (fromBaseline, "460000", "2025-09", 150m),
            (fromBaseline, "460000", "2025-10", 250m),
            (lowerIsBetter, "460000", "2025-09", 80m));

        var zero = await SeriesAsync(fromZero, "460000", "2025-09", "2025-10");
        Assert.Equal(200m, D(zero["targetValue"]));
        Assert.Equal([25m, null], Column(zero, "targetProgress"));
        Assert.Equal([50m, 150m], Column(await SeriesAsync(fromBaseline, "460000", "2025-09", "2025-10"), "targetProgress"));
        Assert.Equal([40m], Column(await SeriesAsync(lowerIsBetter, "460000", "2025-09", "2025-09"), "targetProgress"));
    }

    [Fact]
    public async Task A_quarterly_indicator_has_one_point_per_quarter()
    {
        var code = await IndicatorAsync(frequency: "quarterly");
        await _kit.PushAsync((code, "460000", "2024-Q1", 8m), (code, "460000", "2024-Q4", 10m), (code, "460000", "2025-Q1", 12m),
            (code, "460000", "2025-Q2", 15m));

        var series = await SeriesAsync(code, "460000", "2025-Q1", "2025-Q4");
        Assert.Equal("quarterly", series["frequency"]!.GetValue<string>());
        Assert.Equal(["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"], Periods(series));
        Assert.Equal([12m, 15m, null, null], Column(series, "value"));
        Assert.Equal([2m, 3m, null, null], Column(series, "change"));
        Assert.Equal([4m, null, null, null], Column(series, "yearOnYear"));
        Assert.Equal([50m, null, null, null], Column(series, "yearOnYearPercent"));
    }

    [Fact]
    public async Task Without_from_and_to_the_series_is_the_twelve_months_up_to_the_latest_value()
    {
        var code = await IndicatorAsync();
        await _kit.PushAsync((code, "460100", "2024-01", 1m), (code, "460100", "2025-03", 3m));

        var series = await SeriesAsync(code, "460100");
        Assert.Equal(12, Periods(series).Length);
        Assert.Equal("2024-04", Periods(series)[0]);
        Assert.Equal("2025-03", Periods(series)[^1]);
        Assert.Equal(3m, Column(series, "value")[^1]);

        Assert.Equal(["2025-01", "2025-02", "2025-03"], Periods(await SeriesAsync(code, "460100", from: "2025-01")));
        Assert.Equal(["2024-01", "2024-02"], Periods(await SeriesAsync(code, "460100", from: "2024-01", to: "2024-02")));
    }

    [Fact]
    public async Task A_series_of_240_months_is_served()
    {
        var code = await IndicatorAsync();
        var series = await SeriesAsync(code, "460000", "2006-01", "2025-12");
        Assert.Equal(240, Periods(series).Length);
    }

    [Fact]
    public async Task Figures_beyond_the_range_of_a_decimal_are_null_rather_than_an_error()
    {
        var code = await IndicatorAsync();
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var fixedCount = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var rate = await _kit.CreateCodeAsync(IndicatorKit.RatioBody(fixedCount, found));
        const decimal huge = 50_000_000_000_000_000_000_000_000_000m; // 5e28: two of them do not fit a decimal
        await _kit.PushAsync((code, "460100", "2025-09", huge), (code, "460200", "2025-09", huge), (code, "460400", "2025-09", 1m),
            (code, "460400", "2024-11", 0.001m), (code, "460400", "2025-10", -huge), (code, "460400", "2025-11", huge),
            (fixedCount, "460000", "2025-09", huge), (found, "460000", "2025-09", 0.001m));

        Assert.Equal([null, -huge], await ValuesAsync(code, "460000", "2025-09", "2025-10")); // the cities' sum overflows
        var danzhou = await SeriesAsync(code, "460400", "2025-09", "2025-11");
        Assert.Equal([1m, -huge, huge], Column(danzhou, "value"));
        Assert.Equal([null, -huge - 1m, null], Column(danzhou, "change"));           // huge - (-huge) overflows
        Assert.Equal([null, null, null], Column(danzhou, "yearOnYearPercent"));     // huge / 0.001 overflows
        Assert.Equal([null], await ValuesAsync(rate, "460000", "2025-09", "2025-09")); // 5e28 / 0.001 overflows
    }

    async Task<JsonNode> SeriesProblemAsync(string url, HttpStatusCode status, string type)
    {
        using var response = await Client.GetAsync(url, TestContext.Current.CancellationToken);
        return await response.ShouldBeProblemAsync(status, type);
    }

    [Fact]
    public async Task An_unknown_indicator_or_unit_is_not_found()
    {
        var code = await IndicatorAsync();
        await SeriesProblemAsync("/api/v1/indicators/NO-SUCH-INDICATOR/series?unit=460000&from=2025-01&to=2025-02", HttpStatusCode.NotFound,
            "not-found");
        var problem =
            await SeriesProblemAsync($"/api/v1/indicators/{code}/series?unit=999999&from=2025-01&to=2025-02", HttpStatusCode.NotFound, "not-found");
        Assert.Contains("999999", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("unit=")]
    [InlineData("unit=%20")]
    public async Task A_missing_unit_is_a_bad_request_naming_unit(string query)
    {
        var code = await IndicatorAsync();
        var problem =
            await SeriesProblemAsync($"/api/v1/indicators/{code}/series?{query}&from=2025-01&to=2025-02", HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["unit"]);
    }

    [Theory]
    [InlineData("monthly", "from", "2025-13")]
    [InlineData("monthly", "from", "2025-9")]
    [InlineData("monthly", "to", "2025-Q1")]
    [InlineData("monthly", "to", "2025")]
    [InlineData("monthly", "from", "abc")]
    [InlineData("monthly", "to", "2025-09-30")]
    [InlineData("quarterly", "from", "2025-01")]
    [InlineData("quarterly", "to", "2025-Q5")]
    [InlineData("yearly", "from", "2025-Q1")]
    public async Task A_period_that_is_malformed_or_of_another_frequency_is_a_bad_request_naming_it(string frequency, string field, string period)
    {
        var code = await IndicatorAsync(frequency: frequency);
        var good = frequency switch { "monthly" => "2025-06", "quarterly" => "2025-Q2", _ => "2025" };
        var from = field == "from" ? period : good;
        var to = field == "to" ? period : good;
        var problem =
            await SeriesProblemAsync($"/api/v1/indicators/{code}/series?unit=460000&from={from}&to={to}", HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task From_after_to_is_a_bad_request()
    {
        var code = await IndicatorAsync();
        var problem =
            await SeriesProblemAsync($"/api/v1/indicators/{code}/series?unit=460000&from=2025-10&to=2025-09", HttpStatusCode.BadRequest,
            "validation");
        Assert.NotNull(problem["errors"]!["from"]);
    }

    [Theory]
    [InlineData("2005-12", "2025-12")]
    [InlineData("1900-01", "2999-12")]
    public async Task A_range_over_240_periods_is_a_bad_request(string from, string to)
    {
        var code = await IndicatorAsync();
        var problem =
            await SeriesProblemAsync($"/api/v1/indicators/{code}/series?unit=460000&from={from}&to={to}", HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["from"]);
    }

    [Fact]
    public async Task Without_values_and_without_to_the_caller_is_asked_to_name_the_periods()
    {
        var code = await IndicatorAsync();
        var problem = await SeriesProblemAsync($"/api/v1/indicators/{code}/series?unit=460000", HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["to"]);
    }
}
