using System.Text.Json.Nodes;
using Rectify.Api.Tests.Indicators;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Reporting;

/// <summary>
/// Calls the completeness tests share: monthly indicators with reporters, values stored with the arrival time a test
/// chooses, and the parts of a completeness answer.
/// </summary>
public sealed class CompletenessKit(RectifyApp app)
{
    public IndicatorKit Indicators { get; } = new(app);

    public HttpClient Client => Indicators.Client;

    /// <summary>A monthly indicator that <paramref name="reporters"/> must report by <paramref name="reportingDay"/> of the following
    /// month.</summary>
    public Task<string> IndicatorAsync(string[] reporters, int? reportingDay = 10, string frequency = "monthly")
    {
        var body = IndicatorKit.Body(name: "低保对象人数", valueType: "count", frequency: frequency, timeAggregation: "stock", measureUnit: "人");
        body["reporters"] = reporters;
        body["reportingDay"] = reportingDay;
        return Indicators.CreateCodeAsync(body);
    }

    /// <summary>Stores a value as if it had first arrived at <paramref name="arrivedAt"/> (created_at; updated_at is later).</summary>
    public Task InsertAsync(string indicator, string unit, string period, DateTimeOffset arrivedAt, decimal value = 1m)
        => app.ScalarAsync<int>("""
            INSERT INTO data_values (indicator_id, unit_code, period, value, source, created_at, updated_at)
            SELECT id, @unit, @period, @value, 'county-system', @arrivedAt, @arrivedAt + interval '40 days' FROM indicators WHERE code = @indicator;
            SELECT 1;
            """, new { indicator, unit, period, value, arrivedAt = arrivedAt.UtcDateTime });

    public Task<JsonNode> GetAsync(string query) => Client.GetJsonAsync($"/api/v1/reporting/completeness?{query}");

    /// <summary>The totals row of <paramref name="key"/> in byUnit or byIndicator, or null.</summary>
    public static JsonNode? Totals(JsonNode answer, string list, string key)
        => answer[list]!.AsArray().SingleOrDefault(t => t!["key"]!.GetValue<string>() == key);

    /// <summary>(expected, reported, onTime, late, missing) of a totals row.</summary>
    public static (int, int, int, int, int) Counts(JsonNode? totals)
    {
        Assert.NotNull(totals);
        return (totals["expected"]!.GetValue<int>(), totals["reported"]!.GetValue<int>(), totals["onTime"]!.GetValue<int>(),
            totals["late"]!.GetValue<int>(), totals["missing"]!.GetValue<int>());
    }

    /// <summary>The one report of an indicator, unit and month.</summary>
    public static JsonNode Report(JsonNode answer, string indicator, string unit, string period)
        => answer["reports"]!.AsArray().Single(r => r!["indicator"]!.GetValue<string>() == indicator && r["unit"]!.GetValue<string>() == unit
            && r["period"]!.GetValue<string>() == period)!;

    public static JsonNode[] ReportsOf(JsonNode answer, string indicator)
        => answer["reports"]!.AsArray().Where(r => r!["indicator"]!.GetValue<string>() == indicator).Select(r => r!).ToArray();

    /// <summary>(reported, onTime, deadline, reportedAt) of a report.</summary>
    public static (bool Reported, bool? OnTime, string? Deadline, DateTime? ReportedAt) Status(JsonNode report)
        => (report["reported"]!.GetValue<bool>(), report["onTime"]?.GetValue<bool>(), report["deadline"]?.GetValue<string>(),
            report["reportedAt"]?.GetValue<DateTime>().ToUniversalTime());
}
