using Rectify.Api.Tests.Indicators;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Reporting;

/// <summary>
/// The overall totals of a month. The answer covers every indicator of the database, so this class holds a single
/// test: its database has no other indicators whose reports would count.
/// </summary>
public sealed class CompletenessTotalsTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly CompletenessKit _kit = new(app);

    static DateTimeOffset Utc(int month, int day, int hour) => new(2025, month, day, hour, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Overall_totals_count_every_expected_monthly_report_and_nothing_else()
    {
        await _kit.Indicators.RegionsAsync();
        string[] cities = ["460100", "460200", "460400"];
        var dibao = await _kit.IndicatorAsync(cities, reportingDay: 10);
        var served = await _kit.IndicatorAsync(["460000"], reportingDay: 10);
        var ratioBody = IndicatorKit.RatioBody(dibao, served);
        ratioBody["reporters"] = cities;
        ratioBody["reportingDay"] = 10;
        await _kit.Indicators.CreateCodeAsync(ratioBody);
        await _kit.IndicatorAsync(cities, reportingDay: 15, frequency: "quarterly");
        await _kit.IndicatorAsync([]);

        await _kit.InsertAsync(dibao, "460100", "2025-09", Utc(10, 8, 2));   // on time
        await _kit.InsertAsync(dibao, "460200", "2025-09", Utc(10, 20, 2));  // late; 460400 missing
        await _kit.InsertAsync(served, "460000", "2025-09", Utc(10, 1, 2));  // on time
        await _kit.InsertAsync(dibao, "460100", "2025-10", Utc(11, 10, 17)); // 11 November 01:00 in Shanghai: late; the rest of October missing

        var september = await _kit.GetAsync("period=2025-09");
        Assert.Equal("all", september["overall"]!["key"]!.GetValue<string>());
        Assert.Equal((4, 3, 2, 1, 1), CompletenessKit.Counts(september["overall"]));
        Assert.Equal(4, september["reports"]!.AsArray().Count);
        Assert.Equal(["460000", "460100", "460200", "460400"], september["byUnit"]!.AsArray().Select(t => t!["key"]!.GetValue<string>()));
        Assert.Equal(2, september["byIndicator"]!.AsArray().Count);

        var both = await _kit.GetAsync("period=2025-09&to=2025-10");
        Assert.Equal((8, 4, 2, 2, 4), CompletenessKit.Counts(both["overall"]));
        Assert.Equal((2, 2, 1, 1, 0), CompletenessKit.Counts(CompletenessKit.Totals(both, "byUnit", "460100")));
        Assert.Equal((6, 3, 1, 2, 3), CompletenessKit.Counts(CompletenessKit.Totals(both, "byIndicator", dibao)));
        Assert.Equal((2, 1, 1, 0, 1), CompletenessKit.Counts(CompletenessKit.Totals(both, "byIndicator", served)));
    }
}
