using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Report;

namespace Rectify.Api.Tests.DemoData;

/// <summary>
/// The demo data loaded long after the reference report (as a fresh start today would load it): the month the report
/// covers, 2025-10, must read as the office reported it, on time, not as late as the load.
/// </summary>
public sealed class DemoReportingTests(DemoReportingTests.App app) : IClassFixture<DemoReportingTests.App>
{
    /// <summary>The reference case loaded on 2026-03-02 in Shanghai, months after every deadline of 2025.</summary>
    public sealed class App(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override bool LoadDemoData => true;
        protected override DateTimeOffset ClockStart => new(2026, 3, 2, 2, 0, 0, TimeSpan.Zero);
    }

    readonly HttpClient _client = app.Client();

    [Fact]
    public async Task The_reference_month_was_reported_on_time()
    {
        var completeness = await _client.GetJsonAsync("/api/v1/reporting/completeness?period=2025-10");
        var overall = completeness["overall"]!;
        var reported = overall["reported"]!.GetValue<int>();
        Assert.True(reported > 0, completeness.ToJsonString());
        Assert.Equal(0, overall["late"]!.GetValue<int>());
        Assert.Equal(reported, overall["onTime"]!.GetValue<int>());
        Assert.All(completeness["reports"]!.AsArray().Where(r => r!["reported"]!.GetValue<bool>()),
            r => Assert.True(r!["reportedAt"]!.GetValue<DateTime>() < new DateTime(2025, 11, 5, 0, 0, 0, DateTimeKind.Utc), r.ToJsonString()));
    }

    [Fact]
    public async Task The_published_report_of_the_reference_month_says_nothing_was_late()
    {
        var snapshot = await _client.GetJsonAsync($"/api/v1/rounds/{ReportKit.Round}/snapshots/2025-10");
        Assert.Equal("published", snapshot["status"]!.GetValue<string>());
        var reporting = snapshot["content"]!["summary"]!["reporting"]!;
        Assert.Equal(0, reporting["late"]!.GetValue<int>());

        var markdown = await _client.MarkdownAsync(ReportKit.Round, "2025-10");
        Assert.Contains($"已报送{reporting["reported"]!.GetValue<int>()}项（按时{reporting["reported"]!.GetValue<int>()}项、逾期0项）", markdown);
    }
}
