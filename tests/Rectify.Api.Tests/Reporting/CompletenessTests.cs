using System.Net;
using Rectify.Api.Tests.Indicators;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Reporting;

/// <summary>
/// GET /reporting/completeness (月提醒): each expected report on time, late or missing against the reporting day of
/// the following month, which ends at midnight in Asia/Shanghai; totals per unit and per indicator. Every test
/// uses units of its own, so that its totals per unit are its own whatever else the class created.
/// </summary>
public sealed class CompletenessTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly CompletenessKit _kit = new(app);

    static DateTimeOffset Utc(int year, int month, int day, int hour, int minute, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    [Fact]
    public async Task Each_expected_report_is_on_time_late_or_missing_with_totals_per_unit_and_per_indicator()
    {
        var units = await _kit.Indicators.OwnUnitsAsync(4);
        var (u1, u2, u3, notReporter) = (units[0], units[1], units[2], units[3]);
        var a = await _kit.IndicatorAsync([u1, u2, u3], reportingDay: 10);
        var b = await _kit.IndicatorAsync([u1, u2], reportingDay: 5);
        await _kit.InsertAsync(a, u1, "2025-09", Utc(2025, 10, 9, 2, 0));         // on time
        await _kit.InsertAsync(a, u2, "2025-09", Utc(2025, 10, 12, 1, 0));        // late; u3 is missing
        await _kit.InsertAsync(a, notReporter, "2025-09", Utc(2025, 10, 1, 0, 0)); // not expected: not counted
        await _kit.InsertAsync(a, u3, "2025-08", Utc(2025, 9, 1, 0, 0));          // another month: not counted
        await _kit.InsertAsync(b, u1, "2025-09", Utc(2025, 10, 5, 15, 59, 59));   // the last second of 5 October in Shanghai
        await _kit.InsertAsync(b, u2, "2025-09", Utc(2025, 10, 5, 16, 0));        // midnight in Shanghai: 6 October, late

        var answer = await _kit.GetAsync("period=2025-09");
        Assert.Equal("2025-09", answer["from"]!.GetValue<string>());
        Assert.Equal("2025-09", answer["to"]!.GetValue<string>());

        Assert.Equal((true, true, "2025-10-10", Utc(2025, 10, 9, 2, 0).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, a, u1, "2025-09")));
        Assert.Equal((true, false, "2025-10-10", Utc(2025, 10, 12, 1, 0).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, a, u2, "2025-09")));
        Assert.Equal((false, null, "2025-10-10", null), CompletenessKit.Status(CompletenessKit.Report(answer, a, u3, "2025-09")));
        Assert.Equal((true, true, "2025-10-05", Utc(2025, 10, 5, 15, 59, 59).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, b, u1, "2025-09")));
        Assert.Equal((true, false, "2025-10-05", Utc(2025, 10, 5, 16, 0).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, b, u2, "2025-09")));
        Assert.Equal(3, CompletenessKit.ReportsOf(answer, a).Length);
        Assert.Equal(2, CompletenessKit.ReportsOf(answer, b).Length);

        Assert.Equal((3, 2, 1, 1, 1), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byIndicator", a)));
        Assert.Equal((2, 2, 1, 1, 0), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byIndicator", b)));
        Assert.Equal((2, 2, 2, 0, 0), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byUnit", u1)));
        Assert.Equal((2, 2, 0, 2, 0), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byUnit", u2)));
        Assert.Equal((1, 0, 0, 0, 1), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byUnit", u3)));
        Assert.Null(CompletenessKit.Totals(answer, "byUnit", notReporter));
    }

    [Fact]
    public async Task A_value_pushed_one_minute_before_the_deadline_day_ends_in_shanghai_is_on_time_and_one_minute_after_is_late()
    {
        var units = await _kit.Indicators.OwnUnitsAsync(3);
        var code = await _kit.IndicatorAsync(units, reportingDay: 10);

        // The only test of this class that moves the clock (it cannot go back): 2025-10-10 23:59 in Shanghai.
        app.Clock.SetUtcNow(Utc(2025, 10, 10, 15, 59));
        await _kit.Indicators.PushAsync((code, units[0], "2025-09", 21530m));
        app.Clock.Advance(TimeSpan.FromMinutes(2)); // 2025-10-11 00:01 in Shanghai
        await _kit.Indicators.PushAsync((code, units[1], "2025-09", 18600m));
        await _kit.Indicators.PushAsync((code, units[0], "2025-09", 21531m)); // a correction after the deadline keeps the first arrival

        var answer = await _kit.GetAsync("period=2025-09");
        Assert.Equal((true, true, "2025-10-10", Utc(2025, 10, 10, 15, 59).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, code, units[0], "2025-09")));
        Assert.Equal((true, false, "2025-10-10", Utc(2025, 10, 10, 16, 1).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, code, units[1], "2025-09")));
        Assert.Equal((false, null, "2025-10-10", null), CompletenessKit.Status(CompletenessKit.Report(answer, code, units[2], "2025-09")));
        Assert.Equal((3, 2, 1, 1, 1), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byIndicator", code)));
    }

    [Fact]
    public async Task A_range_expects_every_month_each_with_the_deadline_of_its_following_month_across_the_year_end()
    {
        var units = await _kit.Indicators.OwnUnitsAsync(1);
        var code = await _kit.IndicatorAsync(units, reportingDay: 10);
        await _kit.InsertAsync(code, units[0], "2025-11", Utc(2025, 12, 9, 1, 0));  // on time
        await _kit.InsertAsync(code, units[0], "2025-12", Utc(2026, 1, 11, 1, 0));  // late; 2026-01 is missing
        await _kit.InsertAsync(code, units[0], "2026-02", Utc(2026, 3, 1, 1, 0));   // outside the range

        var answer = await _kit.GetAsync("period=2025-11&to=2026-01");
        Assert.Equal("2025-11", answer["from"]!.GetValue<string>());
        Assert.Equal("2026-01", answer["to"]!.GetValue<string>());
        Assert.Equal(["2025-11", "2025-12", "2026-01"], CompletenessKit.ReportsOf(answer, code).Select(r => r["period"]!.GetValue<string>()));
        Assert.Equal((true, true, "2025-12-10", Utc(2025, 12, 9, 1, 0).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, code, units[0], "2025-11")));
        Assert.Equal((true, false, "2026-01-10", Utc(2026, 1, 11, 1, 0).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, code, units[0], "2025-12")));
        Assert.Equal((false, null, "2026-02-10", null), CompletenessKit.Status(CompletenessKit.Report(answer, code, units[0], "2026-01")));
        Assert.Equal((3, 2, 1, 1, 1), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byIndicator", code)));
        Assert.Equal((3, 2, 1, 1, 1), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byUnit", units[0])));
    }

    [Fact]
    public async Task Without_a_reporting_day_a_report_is_reported_or_missing_but_neither_on_time_nor_late()
    {
        var units = await _kit.Indicators.OwnUnitsAsync(2);
        var code = await _kit.IndicatorAsync(units, reportingDay: null);
        await _kit.InsertAsync(code, units[0], "2025-09", Utc(2026, 3, 1, 0, 0));

        var answer = await _kit.GetAsync("period=2025-09");
        Assert.Equal((true, null, null, Utc(2026, 3, 1, 0, 0).UtcDateTime),
            CompletenessKit.Status(CompletenessKit.Report(answer, code, units[0], "2025-09")));
        Assert.Equal((false, null, null, null), CompletenessKit.Status(CompletenessKit.Report(answer, code, units[1], "2025-09")));
        Assert.Equal((2, 1, 0, 0, 1), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byIndicator", code)));
    }

    [Fact]
    public async Task Ratio_quarterly_and_yearly_indicators_and_indicators_without_reporters_are_not_expected()
    {
        var units = await _kit.Indicators.OwnUnitsAsync(1);
        var monthly = await _kit.IndicatorAsync(units);
        var other = await _kit.IndicatorAsync(units);
        var ratioBody = IndicatorKit.RatioBody(monthly, other);
        ratioBody["reporters"] = units;
        ratioBody["reportingDay"] = 10;
        var ratio = await _kit.Indicators.CreateCodeAsync(ratioBody);
        var quarterly = await _kit.IndicatorAsync(units, reportingDay: 15, frequency: "quarterly");
        var yearly = await _kit.IndicatorAsync(units, reportingDay: 20, frequency: "yearly");
        var unreported = await _kit.IndicatorAsync([]);

        var answer = await _kit.GetAsync("period=2025-09");
        foreach (var notExpected in new[] { ratio, quarterly, yearly, unreported })
        {
            Assert.Null(CompletenessKit.Totals(answer, "byIndicator", notExpected));
            Assert.Empty(CompletenessKit.ReportsOf(answer, notExpected));
        }
        Assert.Equal((2, 0, 0, 0, 2), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byUnit", units[0])));
    }

    [Fact]
    public async Task Totals_lists_are_ordered_by_key_and_reports_by_indicator_unit_and_month()
    {
        var units = await _kit.Indicators.OwnUnitsAsync(2);
        await _kit.IndicatorAsync(units);
        await _kit.IndicatorAsync(units);

        var answer = await _kit.GetAsync("period=2025-08&to=2025-09");
        var unitKeys = answer["byUnit"]!.AsArray().Select(t => t!["key"]!.GetValue<string>()).ToArray();
        Assert.Equal(unitKeys.Order(StringComparer.Ordinal), unitKeys);
        var indicatorKeys = answer["byIndicator"]!.AsArray().Select(t => t!["key"]!.GetValue<string>()).ToArray();
        Assert.Equal(indicatorKeys.Order(StringComparer.Ordinal), indicatorKeys);
        var reports = answer["reports"]!.AsArray()
            .Select(r => (r!["indicator"]!.GetValue<string>(), r["unit"]!.GetValue<string>(), r["period"]!.GetValue<string>())).ToArray();
        Assert.Equal(reports.OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal)
            .ThenBy(r => r.Item3, StringComparer.Ordinal), reports);
        Assert.True(reports.Length >= 8);
    }

    [Theory]
    [InlineData("")]
    [InlineData("period=")]
    [InlineData("period=2025-9")]
    [InlineData("period=2025-13")]
    [InlineData("period=2025-00")]
    [InlineData("period=2025-Q3")]
    [InlineData("period=2025")]
    [InlineData("period=2025-09-01")]
    [InlineData("period=%E4%B9%9D%E6%9C%88")] // 九月
    public async Task A_missing_or_malformed_period_is_a_bad_request_naming_period(string query)
    {
        using var response = await _kit.Client.GetAsync($"/api/v1/reporting/completeness?{query}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["period"]);
    }

    [Theory]
    [InlineData("period=2025-09&to=2025-13")]
    [InlineData("period=2025-09&to=2025-Q4")]
    [InlineData("period=2025-09&to=2025-08")]   // before period
    [InlineData("period=2024-01&to=2026-01")]   // 25 months
    [InlineData("period=1900-01&to=2999-12")]
    public async Task A_bad_to_a_to_before_period_or_more_than_24_months_is_a_bad_request_naming_to(string query)
    {
        using var response = await _kit.Client.GetAsync($"/api/v1/reporting/completeness?{query}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["to"]);
    }

    [Fact]
    public async Task Twenty_four_months_are_served()
    {
        var units = await _kit.Indicators.OwnUnitsAsync(1);
        var code = await _kit.IndicatorAsync(units);
        var answer = await _kit.GetAsync("period=2024-01&to=2025-12");
        Assert.Equal(24, CompletenessKit.ReportsOf(answer, code).Length);
        Assert.Equal((24, 0, 0, 0, 24), CompletenessKit.Counts(CompletenessKit.Totals(answer, "byUnit", units[0])));
    }
}
