using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.DemoData;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DemoData;

/// <summary>The reference case (the 2025-11 progress report of the Hainan civil-affairs department) loaded as demo data.</summary>
public sealed class ReferenceCaseTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    readonly HttpClient _client = app.Client();

    [Fact]
    public async Task The_reference_round_is_loaded_with_its_dates_and_state()
    {
        var round = await _client.GetJsonAsync("/api/v1/rounds/HN-8-6-6");
        Assert.Equal("HNMZT", round["inspectedUnit"]!.GetValue<string>());
        Assert.Equal("2024-09-01", round["inspectionStart"]!.GetValue<string>());
        Assert.Equal("2025-02-28", round["feedbackDate"]!.GetValue<string>());
        Assert.Contains("第六巡视组", round["inspectionBody"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_reference_round_has_nine_issues_each_with_measures()
    {
        var page = await _client.GetJsonAsync("/api/v1/issues?round=HN-8-6-6&limit=200");
        var issues = page["items"]!.AsArray();
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7", "8", "9"], issues.Select(i => i!["code"]!.GetValue<string>()));
        Assert.Null(page["nextCursor"]);
        Assert.Equal("殡葬改革推行不力", issues[0]!["title"]!.GetValue<string>());
        Assert.All(issues, issue => Assert.True(issue!["measureCount"]!.GetValue<int>() > 0, $"issue {issue["code"]} has no measures"));
        Assert.Equal(25, issues.Sum(i => i!["measureCount"]!.GetValue<int>()));

        var measures = await _client.GetJsonAsync("/api/v1/measures?round=HN-8-6-6&limit=200");
        Assert.Equal(25, measures["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Measures_carry_the_evidence_the_report_names()
    {
        var issues = (await _client.GetJsonAsync("/api/v1/issues?round=HN-8-6-6&limit=200"))["items"]!.AsArray();
        var first = issues.Single(i => i!["code"]!.GetValue<string>() == "1")!;
        var issue = await _client.GetJsonAsync($"/api/v1/issues/{first["id"]}");
        var measure11 = issue["measures"]!.AsArray().Single(m => m!["code"]!.GetValue<string>() == "1.1")!;
        Assert.Equal("整治殡葬乱象", measure11["title"]!.GetValue<string>());

        var measure = await _client.GetJsonAsync($"/api/v1/measures/{measure11["id"]}");
        var evidence = measure["evidence"]!.AsArray().Select(e => e!["title"]!.GetValue<string>()).ToList();
        Assert.Contains("海南省公墓管理办法", evidence);
        Assert.Contains("殡葬阳光服务平台", evidence);
        Assert.Equal(85m, measure["progress"]!.GetValue<decimal>());
        var entry = Assert.Single(measure["progressEntries"]!.AsArray());
        Assert.Equal(85m, entry!["percent"]!.GetValue<decimal>());
        Assert.Equal("demo-data", entry["recordedBy"]!.GetValue<string>());

        Assert.Equal(38L, await app.ScalarAsync<long>("SELECT count(*) FROM measure_evidence"));
    }

    [Fact]
    public async Task Loading_again_inserts_nothing_and_changes_no_row()
    {
        const string counts = """
            SELECT concat_ws(',', (SELECT count(*) FROM units), (SELECT count(*) FROM rounds), (SELECT count(*) FROM issues),
                   (SELECT count(*) FROM measures), (SELECT count(*) FROM measure_evidence), (SELECT count(*) FROM measure_progress),
                   (SELECT count(*) FROM journal))
            """;
        var before = await app.ScalarAsync<string>(counts);
        var loader = app.Services.GetRequiredService<ReferenceCaseLoader>();

        var second = await loader.LoadAsync(TestContext.Current.CancellationToken);
        var third = await loader.LoadAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, second.Total);
        Assert.Equal(0, third.Total);
        Assert.Equal(before, await app.ScalarAsync<string>(counts));
        Assert.StartsWith("43,1,9,25,38,25,", before);
    }

    [Fact]
    public async Task A_demo_load_is_recorded_once_in_the_journal()
    {
        var page = await _client.GetJsonAsync("/api/v1/journal?entity=demo-data");
        var entry = Assert.Single(page["items"]!.AsArray())!;
        Assert.Equal("demo-data", entry["actor"]!.GetValue<string>());
        Assert.Equal("HN-8-6-6", entry["entityId"]!.GetValue<string>());
        Assert.Equal("load", entry["action"]!.GetValue<string>());
        // The API's JSON is camelCase, the journal's before/after included.
        var after = entry["after"]!.AsObject();
        Assert.Equal(["evidence", "indicators", "issues", "measures", "rounds", "total", "units", "values"],
            after.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(43, after["units"]!.GetValue<int>());
        Assert.Equal(9, after["issues"]!.GetValue<int>());
        Assert.Equal(25, after["measures"]!.GetValue<int>());
        // The indicators and their values (indicators.jsonc) are part of the same load and the same entry.
        var indicators = IndicatorDemoLoader.Read().Indicators;
        Assert.Equal(indicators.Count, after["indicators"]!.GetValue<int>());
        Assert.Equal(indicators.Sum(i => i.Values.Count), after["values"]!.GetValue<int>());
        Assert.Equal(43 + 1 + 9 + 25 + 38 + indicators.Count + indicators.Sum(i => i.Values.Count), after["total"]!.GetValue<int>());
    }
}
