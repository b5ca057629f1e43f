using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.DemoData;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DemoData;

/// <summary>
/// The reference case's figures as indicators with values (<c>indicators.jsonc</c>). Checked in the database itself,
/// independently of the indicator endpoints, and against the data file where a count must match it.
/// </summary>
public sealed class IndicatorDemoDataTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    static readonly IndicatorDemoFile Data = IndicatorDemoLoader.Read();

    [Fact]
    public async Task Every_indicator_and_value_of_the_file_is_loaded()
    {
        var indicators = await app.ScalarAsync<long>("SELECT count(*) FROM indicators");
        Assert.True(indicators >= 30, $"only {indicators} indicators");
        Assert.Equal(Data.Indicators.Count, indicators);
        Assert.Equal(Data.Indicators.Sum(i => i.Values.Count), await app.ScalarAsync<long>("SELECT count(*) FROM data_values"));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM data_values WHERE source <> 'demo-data'"));
        // Stamped as received at 09:00 in Shanghai on the first day after the period, or at load time (the service's
        // clock, not the database's) where that day is still to come.
        Assert.Equal(0L, await app.ScalarAsync<long>("""
            SELECT count(*) FROM data_values
            WHERE created_at <> updated_at
               OR created_at <> least(@start, ((to_date(period_last_month(period), 'YYYY-MM') + interval '1 month')::timestamp + interval '9 hours')
                                              AT TIME ZONE 'Asia/Shanghai')
            """, new { start = RectifyApp.Start.UtcDateTime }));
        Assert.Equal(new DateTime(2024, 4, 1, 1, 0, 0, DateTimeKind.Utc), await app.ScalarAsync<DateTime>("""
            SELECT d.created_at FROM data_values d JOIN indicators i ON i.id = d.indicator_id
            WHERE i.code = 'LOTTERY-SALES' AND d.unit_code = '460000' AND d.period = '2024-03'
            """));
        Assert.Equal(75m, await ValueAsync("FUNERAL-FEE-ITEMS-CANCELLED", "460000", "2025-10"));
        Assert.Equal(77000m, await ValueAsync("LOW-INCOME-ALERTS", "460000", "2025-09"));
        Assert.Equal(186000m, await ValueAsync("DIBAO-RECIPIENTS", "460000", "2025-09"));
        Assert.Equal(12.9m, await ValueAsync("ELDERLY-CAREGIVERS-10Y-SHARE", "460000", "2025-09"));
        Assert.Equal(65m, await ValueAsync("DANZHOU-MENTAL-HEALTH-FACILITY-PROGRESS", "460400", "2025-10"));
    }

    [Fact]
    public async Task The_completion_rate_is_the_ratio_of_problems_fixed_to_problems_found()
    {
        var parts = await app.ScalarAsync<string>("""
            SELECT concat_ws(',', r.value_type, r.measure_unit, n.code, d.code)
            FROM indicators r
            JOIN indicators n ON n.id = r.numerator_id
            JOIN indicators d ON d.id = r.denominator_id
            WHERE r.code = 'FUNERAL-PROBLEMS-FIX-RATE'
            """);
        Assert.Equal("ratio,%,FUNERAL-PROBLEMS-FIXED,FUNERAL-PROBLEMS-FOUND", parts);

        var fixedCount = await ValueAsync("FUNERAL-PROBLEMS-FIXED", "460000", "2025-10");
        var found = await ValueAsync("FUNERAL-PROBLEMS-FOUND", "460000", "2025-10");
        Assert.Equal((558m, 596m), (fixedCount, found));
        Assert.Equal(93.6m, Math.Round(fixedCount / found * 100, 1));
        // A ratio is computed from its parts, never stored.
        Assert.Equal(0L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM data_values v JOIN indicators i ON i.id = v.indicator_id WHERE i.value_type = 'ratio'"));

        // And read back as the report gives it: 93.6%.
        var series = await app.Client().GetJsonAsync("/api/v1/indicators/FUNERAL-PROBLEMS-FIX-RATE/series?unit=460000&from=2025-10&to=2025-10");
        var point = Assert.Single(series["points"]!.AsArray())!;
        Assert.Equal(93.6m, Math.Round(point["value"]!.GetValue<decimal>(), 1));
    }

    [Fact]
    public async Task Lottery_sales_add_up_to_the_reported_total_and_growth()
    {
        const string sum = """
            SELECT sum(v.value) FROM data_values v JOIN indicators i ON i.id = v.indicator_id
            WHERE i.code = 'LOTTERY-SALES' AND v.unit_code = '460000' AND v.period BETWEEN @from AND @to
            """;
        Assert.Equal("万元,flow,monthly", await app.ScalarAsync<string>(
            "SELECT concat_ws(',', measure_unit, time_aggregation, frequency) FROM indicators WHERE code = 'LOTTERY-SALES'"));
        var year2025 = await app.ScalarAsync<decimal>(sum, new { from = "2025-01", to = "2025-09" });
        var year2024 = await app.ScalarAsync<decimal>(sum, new { from = "2024-01", to = "2024-09" });

        Assert.Equal(69700m, year2025); // 6.97亿元
        // +19.7% on the year before: 2024-01..09 is 6.97亿 / 1.197, to the 万元 the values are kept in.
        Assert.InRange(year2024, 69700m / 1.197m - 0.5m, 69700m / 1.197m + 0.5m);
        Assert.Equal(19.7m, Math.Round((year2025 / year2024 - 1) * 100, 1));
        Assert.Equal(21L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM data_values v JOIN indicators i ON i.id = v.indicator_id WHERE i.code = 'LOTTERY-SALES'"));
        Assert.Equal(15900m, await ValueAsync("LOTTERY-SALES-12-COUNTIES", "460000", "2025-09")); // 1.59亿元
    }

    [Fact]
    public async Task Every_period_has_its_indicators_frequency()
    {
        var wrong = await app.ScalarAsync<long>("""
            SELECT count(*) FROM data_values v JOIN indicators i ON i.id = v.indicator_id
            WHERE NOT CASE i.frequency
                WHEN 'monthly' THEN v.period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'
                WHEN 'quarterly' THEN v.period ~ '^[0-9]{4}-Q[1-4]$'
                WHEN 'yearly' THEN v.period ~ '^[0-9]{4}$'
            END
            """);
        Assert.Equal(0L, wrong);
        // The file uses all three, so the check above is not vacuous.
        Assert.Equal("monthly,quarterly,yearly", await app.ScalarAsync<string>(
            "SELECT string_agg(DISTINCT i.frequency, ',' ORDER BY i.frequency) FROM data_values v JOIN indicators i ON i.id = v.indicator_id"));
    }

    [Fact]
    public async Task Every_reporter_issue_and_measure_link_resolves()
    {
        // The inserts resolve codes by joins, which would drop an unknown one silently: every link of the file must be there.
        Assert.Equal(Data.Indicators.Sum(i => i.Reporters.Count), await app.ScalarAsync<long>("SELECT count(*) FROM indicator_reporters"));
        Assert.Equal(Data.Indicators.Sum(i => i.Issues.Count), await app.ScalarAsync<long>("SELECT count(*) FROM indicator_issues"));
        Assert.Equal(Data.Indicators.Sum(i => i.Measures.Count), await app.ScalarAsync<long>("SELECT count(*) FROM indicator_measures"));
        Assert.Equal(9L, await app.ScalarAsync<long>("SELECT count(DISTINCT issue_id) FROM indicator_issues"));

        // A measure link points at the measure of the named issue (measure codes are unique within an issue only).
        Assert.Equal("5/5.4", await app.ScalarAsync<string>("""
            SELECT string_agg(DISTINCT s.code || '/' || m.code, ',')
            FROM indicator_measures im
            JOIN indicators i ON i.id = im.indicator_id
            JOIN measures m ON m.id = im.measure_id
            JOIN issues s ON s.id = m.issue_id
            WHERE i.code = 'LOTTERY-SALES'
            """));
        // Every value comes from a unit expected to report it, and regional values sit at the regions the report names.
        Assert.Equal(0L, await app.ScalarAsync<long>("""
            SELECT count(*) FROM data_values v
            WHERE NOT EXISTS (SELECT 1 FROM indicator_reporters r WHERE r.indicator_id = v.indicator_id AND r.unit_code = v.unit_code)
            """));
        Assert.Equal("460200,469001,469005,469006", await app.ScalarAsync<string>("""
            SELECT string_agg(v.unit_code, ',' ORDER BY v.unit_code) FROM data_values v JOIN indicators i ON i.id = v.indicator_id
            WHERE i.code = 'FUNERAL-HOMES-COMPLETED'
            """));
    }

    [Fact]
    public async Task Loading_again_inserts_no_indicator_value_or_link()
    {
        const string counts = """
            SELECT concat_ws(',', (SELECT count(*) FROM indicators), (SELECT count(*) FROM indicator_reporters),
                   (SELECT count(*) FROM indicator_issues), (SELECT count(*) FROM indicator_measures),
                   (SELECT count(*) FROM data_values), (SELECT max(updated_at) FROM data_values), (SELECT count(*) FROM journal))
            """;
        var before = await app.ScalarAsync<string>(counts);
        var loader = app.Services.GetRequiredService<ReferenceCaseLoader>();

        var again = await loader.LoadAsync(TestContext.Current.CancellationToken);

        Assert.Equal((0, 0, 0), (again.Indicators, again.Values, again.Total));
        Assert.Equal(before, await app.ScalarAsync<string>(counts));
    }

    [Fact]
    public void A_broken_data_file_is_refused_with_its_mistakes_named()
    {
        // Start-up runs the same check against the reference case (this class's fixture would not start otherwise);
        // here: that it catches what the joins and ON CONFLICT DO NOTHING would otherwise drop silently.
        var first = Data.Indicators[0];
        var broken = new IndicatorDemoFile([
            .. Data.Indicators,
            first with { Code = "BROKEN", Values = [new DemoValue("460000", "2025-Q1", 1m), new DemoValue("460100", "2025-01", 1m)] },
            first with { Code = "BROKEN" },
        ]);

        var error = Assert.Throws<InvalidOperationException>(() => IndicatorDemoLoader.Validate(broken,
            new HashSet<string> { "460000", "460100" }, new HashSet<string> { "1" }, new HashSet<string>()));

        Assert.Contains("BROKEN: the code appears twice.", error.Message);
        Assert.Contains("BROKEN: period '2025-Q1' is not monthly.", error.Message);
        Assert.Contains("BROKEN: value for 460100, which is no reporter.", error.Message);
        Assert.Contains($"{first.Code}: measure 1/1.1 is not in the reference round.", error.Message);
    }

    Task<decimal> ValueAsync(string indicator, string unit, string period)
        => app.ScalarAsync<decimal>("""
            SELECT v.value FROM data_values v JOIN indicators i ON i.id = v.indicator_id
            WHERE i.code = @indicator AND v.unit_code = @unit AND v.period = @period
            """, new { indicator, unit, period });
}
