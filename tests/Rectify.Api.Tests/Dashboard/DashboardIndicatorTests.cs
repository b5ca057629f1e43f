using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Dashboard;

/// <summary>
/// The dashboard's indicators: those linked to the round (through its issues or measures) that have a target, with their
/// latest value at the round's region (the top-most region above the inspected unit: 460000 above HNMZT) as the
/// indicator's series gives it (the region's own value, else its sub-regions combined; a ratio divided), and the
/// progress towards the target. Indicators without a target, and other rounds' indicators, are left out.
/// </summary>
public sealed class DashboardIndicatorTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly DashboardKit _kit = new(app);
    readonly ImportKit _import = new(app);

    async Task<string> IndicatorAsync(string prefix, object fields)
    {
        var code = Seed.Unique(prefix);
        var body = new JsonObject
        {
            ["code"] = code, ["name"] = "指标" + code, ["measureUnit"] = "项", ["valueType"] = "count", ["frequency"] = "monthly",
            ["regionAggregation"] = "sum", ["timeAggregation"] = "stock", ["direction"] = "higher_is_better",
        };
        foreach (var (key, value) in JsonSerializerNode(fields)) body[key] = value?.DeepClone();
        using var response = await _kit.Client.PostJsonAsync("/api/v1/indicators", body);
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return code;
    }

    static JsonObject JsonSerializerNode(object fields) => System.Text.Json.JsonSerializer.SerializeToNode(fields, Http.Json)!.AsObject();

    [Fact]
    public async Task Linked_indicators_with_a_target_show_their_latest_value_at_the_region_and_the_progress_towards_it()
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = await _kit.IssueAsync(round, "6", "殡葬管理");
        var measure = await _kit.MeasureAsync(issue, "6.2", "2025-12-31");
        var otherRound = await _kit.Seed.RoundAsync();
        var otherIssue = await _kit.IssueAsync(otherRound, "1", "殡葬管理");

        // Linked through the issue and the measure both: listed once.
        var fees = await IndicatorAsync("A-FEES", new
        {
            targetValue = 600m, targetDate = "2025-12-31", baselineValue = 100m, baselinePeriod = "2025-01", issues = new[] { issue }, measures = new[] { measure },
        });
        // Lower is better: from a baseline of 200 down to 50.
        var complaints = await IndicatorAsync("B-COMPLAINTS", new
        {
            measureUnit = "件", direction = "lower_is_better", targetValue = 50m, baselineValue = 200m, baselinePeriod = "2025-01", issues = new[] { issue },
        });
        var found = await IndicatorAsync("C-FOUND", new { measureUnit = "个" });
        var fixedCount = await IndicatorAsync("C-FIXED", new { measureUnit = "个" });
        var rate = await IndicatorAsync("D-RATE", new
        {
            measureUnit = "%", valueType = "ratio", regionAggregation = "sum", numerator = fixedCount, denominator = found, targetValue = 100m,
            targetDate = "2025-12-31", measures = new[] { measure },
        });
        var silent = await IndicatorAsync("E-SILENT", new { targetValue = 10m, issues = new[] { issue } });
        // Reported by a city only: the province's figure is its sub-regions' sum, as in the series; the department filed
        // under the province is an organisation, not a sub-region, and does not add to it.
        var cities = await IndicatorAsync("F-CITIES", new { targetValue = 100m, issues = new[] { issue } });
        // Not combined across regions: a city's value says nothing about the province.
        var uncombined = await IndicatorAsync("G-UNCOMBINED", new { regionAggregation = "none", valueType = "percent", measureUnit = "%", targetValue = 100m, issues = new[] { issue } });
        var untargeted = await IndicatorAsync("H-UNTARGETED", new { issues = new[] { issue } });
        var elsewhere = await IndicatorAsync("I-ELSEWHERE", new { targetValue = 10m, issues = new[] { otherIssue } });

        var summary = await ImportKit.AppliedAsync(await _import.PushJsonAsync(new object[]
        {
            new { indicator = fees, unit = "460000", period = "2025-04", value = 200m },
            new { indicator = fees, unit = "460000", period = "2025-05", value = 350m },
            new { indicator = fees, unit = "460100", period = "2025-05", value = 999m }, // the province's own value wins over its city's
            new { indicator = complaints, unit = "460000", period = "2025-05", value = 125m },
            new { indicator = found, unit = "460000", period = "2025-04", value = 500m },
            new { indicator = fixedCount, unit = "460000", period = "2025-04", value = 400m },
            new { indicator = found, unit = "460000", period = "2025-05", value = 596m },
            new { indicator = fixedCount, unit = "460000", period = "2025-05", value = 558m },
            new { indicator = fixedCount, unit = "460000", period = "2025-06", value = 570m }, // no denominator: no rate for June
            new { indicator = found, unit = "460000", period = "2025-07", value = 0m },      // a zero divisor: no rate for July
            new { indicator = fixedCount, unit = "460000", period = "2025-07", value = 0m },
            new { indicator = cities, unit = "460100", period = "2025-04", value = 10m },
            new { indicator = cities, unit = "460100", period = "2025-05", value = 30m },
            new { indicator = cities, unit = "HNMZT", period = "2025-06", value = 1000m },
            new { indicator = uncombined, unit = "460100", period = "2025-05", value = 80m },
            new { indicator = untargeted, unit = "460000", period = "2025-05", value = 1m },
            new { indicator = elsewhere, unit = "460000", period = "2025-05", value = 1m },
        }));
        ImportKit.Counts(summary, received: 17, inserted: 17);

        var dashboard = await _kit.DashboardAsync(round);
        Assert.Equal("460000", DashboardKit.Text(dashboard["region"]));
        Assert.Equal("海南省", DashboardKit.Text(dashboard["regionName"]));
        var indicators = dashboard["indicators"]!.AsArray();
        Assert.Equal([fees, complaints, rate, silent, cities, uncombined], indicators.Select(i => DashboardKit.Text(i!["code"])));

        var a = indicators[0]!;
        Assert.Equal("指标" + fees, DashboardKit.Text(a["name"]));
        Assert.Equal("项", DashboardKit.Text(a["measureUnit"]));
        Assert.Equal("count", DashboardKit.Text(a["valueType"]));
        Assert.Equal("higher_is_better", DashboardKit.Text(a["direction"]));
        Assert.Equal(100m, DashboardKit.Decimal(a["baselineValue"]));
        Assert.Equal(600m, DashboardKit.Decimal(a["targetValue"]));
        Assert.Equal("2025-12-31", DashboardKit.Text(a["targetDate"]));
        Assert.Equal(("2025-05", 350m, 50m), Figures(a)); // (350 − 100) / (600 − 100)

        Assert.Equal(("2025-05", 125m, 50m), Figures(indicators[1]!)); // (125 − 200) / (50 − 200)
        Assert.Equal("lower_is_better", DashboardKit.Text(indicators[1]!["direction"]));

        var ratio = indicators[2]!;
        Assert.Equal("ratio", DashboardKit.Text(ratio["valueType"]));
        Assert.Equal(("2025-05", 93.6242m, 93.62m), Figures(ratio)); // 558 / 596 × 100
        Assert.Null(ratio["baselineValue"]);

        Assert.Equal((null, null, null), Figures(indicators[3]!)); // linked, with a target, but nothing pushed
        Assert.Equal(("2025-05", 30m, 30m), Figures(indicators[4]!));
        Assert.Equal((null, null, null), Figures(indicators[5]!));

        // The same figures as the indicators' own series at the region.
        foreach (var indicator in indicators.Where(i => i!["period"] is not null))
        {
            var (period, value, progress) = Figures(indicator!);
            var series = await _kit.Client.GetJsonAsync($"/api/v1/indicators/{DashboardKit.Text(indicator!["code"])}/series?unit=460000&from={period}&to={period}");
            Assert.Equal((value, progress), (DashboardKit.Decimal(series["points"]![0]!["value"]), DashboardKit.Decimal(series["points"]![0]!["targetProgress"])));
        }
    }

    static (string? Period, decimal? Value, decimal? Progress) Figures(JsonNode indicator)
        => (DashboardKit.Text(indicator["period"]), DashboardKit.Decimal(indicator["value"]), DashboardKit.Decimal(indicator["progress"]));

    [Fact]
    public async Task The_region_is_the_top_most_region_above_the_inspected_unit_and_none_when_there_is_none()
    {
        await _kit.Seed.UnitsAsync();
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind, parent_code) VALUES ('CENTRAL', '中央某部', 'department', NULL) ON CONFLICT DO NOTHING;
            SELECT 1;
            """);
        var district = await RoundOfAsync("460105"); // 秀英区 → 海口市 → 海南省
        var standalone = await RoundOfAsync("CENTRAL");
        var issue = await _kit.IssueAsync(standalone, "1", "殡葬管理");
        var indicator = await IndicatorAsync("H-STANDALONE", new { targetValue = 10m, issues = new[] { issue } });
        await ImportKit.AppliedAsync(await _import.PushJsonAsync(new[] { new { indicator, unit = "460000", period = "2025-05", value = 5m } }));

        var atDistrict = await _kit.DashboardAsync(district);
        Assert.Equal(("460000", "海南省"), (DashboardKit.Text(atDistrict["region"]), DashboardKit.Text(atDistrict["regionName"])));

        var atStandalone = await _kit.DashboardAsync(standalone);
        Assert.Null(atStandalone["region"]);
        Assert.Null(atStandalone["regionName"]);
        var listed = Assert.Single(atStandalone["indicators"]!.AsArray())!;
        Assert.Equal(indicator, DashboardKit.Text(listed["code"]));
        Assert.Equal((null, null, null), Figures(listed)); // no region, so no value to hold against the target
    }

    async Task<string> RoundOfAsync(string inspectedUnit)
    {
        var code = Seed.Unique("R");
        using var response = await _kit.Client.PostJsonAsync("/api/v1/rounds", new
        {
            code, name = "巡视", inspectedUnit, inspectionBody = "巡视组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31", state = "rectifying",
        });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return code;
    }
}
