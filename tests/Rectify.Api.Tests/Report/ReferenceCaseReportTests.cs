using System.Globalization;
using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Report;

/// <summary>
/// The progress report of the reference case (round HN-8-6-6, nine problem areas, 25 measures, the indicator demo data)
/// for October 2025, with no snapshot stored: a live preview, rendered as HTML and as Markdown.
/// </summary>
public sealed class ReferenceCaseReportTests : IClassFixture<RectifyAppWithDemoData>
{
    const string Period = "2025-10";
    readonly RectifyAppWithDemoData _app;
    readonly HttpClient _client;

    public ReferenceCaseReportTests(RectifyAppWithDemoData app)
    {
        _app = app;
        app.AtReportDay();
        _client = app.Client();
    }

    /// <summary>The completion rate as the report must give it, computed here from the measures endpoint.</summary>
    async Task<string> CompletionRateAsync()
    {
        var measures = (await _client.GetJsonAsync($"/api/v1/measures?round={ReportKit.Round}&limit=200"))["items"]!.AsArray();
        var states = measures.Select(m => m!["state"]!.GetValue<string>()).ToList();
        Assert.Equal(25, states.Count);
        var rate = Math.Round(states.Count(s => s == "done") * 100m / states.Count(s => s != "cancelled"), 2);
        return rate.ToString("0.##", CultureInfo.InvariantCulture) + "%";
    }

    async Task<string> IndicatorNameAsync(string code) => (await _client.GetJsonAsync($"/api/v1/indicators/{code}"))["name"]!.GetValue<string>();

    /// <summary>What both formats must say: the round, the state of the data, the three sections, every area, a measure, figures.</summary>
    async Task AssertContentAsync(string text)
    {
        Assert.Contains("「八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视」整改进展情况（截至2025年10月）", text);
        Assert.Contains("八届省委第六轮巡视第六巡视组", text);
        Assert.Contains("2025年2月28日，巡视组反馈了巡视意见", text);
        Assert.Contains("数据状态：实时数据预览（未形成快照）", text);
        Assert.Contains("一、总体进展", text);
        Assert.Contains("二、各问题整改落实情况", text);
        Assert.Contains("三、下一步整改工作安排", text);

        var areas = await _client.AreaTitlesAsync(ReportKit.Round);
        Assert.Equal(9, areas.Length);
        Assert.Contains("殡葬改革推行不力", areas);
        string[] numbers = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
        for (var i = 0; i < areas.Length; i++) Assert.Contains($"（{numbers[i]}）关于“{areas[i]}”的问题", text);
        Assert.Contains("分层分类的社会救助体系不够健全", text);
        Assert.Contains("养老服务事业短板突出", text);

        Assert.Contains("1. 整治殡葬乱象", text);
        Assert.Contains("加大殡葬基础设施建设力度", text);
        Assert.Contains("上线殡葬阳光服务平台公布收费项目和标准", text); // the measure's description is the narrative
        Assert.Contains("社会事务处", text);                                 // owners by name, not by code
        Assert.Contains("巡视反馈问题共9个", text);
        Assert.Contains("制定整改措施共25项", text);
        Assert.Contains($"整改措施完成率{await CompletionRateAsync()}", text);

        // Figures of the indicator demo data at the province (460000).
        Assert.Contains($"{await IndicatorNameAsync("FUNERAL-FEE-ITEMS-CANCELLED")}：75项", text);
        Assert.Contains($"{await IndicatorNameAsync("FUNERAL-PROBLEMS-FOUND")}：596个", text);
        Assert.Contains($"{await IndicatorNameAsync("FUNERAL-PROBLEMS-FIXED")}：558个", text);
        Assert.Contains($"{await IndicatorNameAsync("FUNERAL-PROBLEMS-FIX-RATE")}：93.62%", text);
        // A figure the report gave as of September: shown as September's, and October's said to be missing.
        Assert.Contains($"{await IndicatorNameAsync("LOW-INCOME-ALERTS")}：77000条（2025年9月；2025年10月数据未报", text);
        Assert.Contains($"{await IndicatorNameAsync("DIBAO-RECIPIENTS")}：186000人", text);
    }

    [Fact]
    public async Task The_html_page_tells_the_reference_case_in_the_shape_of_the_published_report()
    {
        var (response, html) = await _client.ReportAsync(ReportKit.Round, Period);
        using (response)
        {
            Assert.Equal("default-src 'none'; style-src 'unsafe-inline'; img-src data:", response.Headers.GetValues("Content-Security-Policy").Single());
            var disposition = response.Content.Headers.ContentDisposition;
            Assert.Equal("inline", disposition?.DispositionType);
            Assert.Equal("HN-8-6-6-2025-10-progress-report.html", disposition?.FileName?.Trim('"'));
            Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        }

        Assert.StartsWith("<!DOCTYPE html>\n<html lang=\"zh-CN\">", html);
        var page = ReportKit.Parse(html);
        var text = ReportKit.VisibleText(page);
        await AssertContentAsync(text);
        Assert.Contains("<title>「八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视」整改进展情况（截至2025年10月）</title>", html);
        Assert.Contains("@media print", html);
        Assert.Contains("size: A4", html);
        Assert.Contains("Noto Sans CJK SC", html);
    }

    [Fact]
    public async Task The_html_page_loads_nothing_and_draws_its_charts_inline()
    {
        var html = await _client.HtmlAsync(ReportKit.Round, Period);
        var page = ReportKit.Parse(html);
        ReportKit.LoadsNothing(html, page);

        var charts = page.Descendants().Where(e => e.Name.LocalName == "svg" && (string?)e.Attribute("class") is { } c && c.StartsWith("chart", StringComparison.Ordinal)).ToList();
        // The completion-rate trend and four key indicators, each over twelve months.
        Assert.Equal(5, charts.Count);
        Assert.Contains("整改措施完成率", (string?)charts[0].Attribute("aria-label"));
        Assert.All(charts, chart => Assert.Equal(12, chart.Elements().Count(e => e.Name.LocalName == "text" && e.Value.EndsWith('月'))));
        // The indicator with most months of data leads: monthly lottery sales, January 2024 to September 2025.
        Assert.Contains(await IndicatorNameAsync("LOTTERY-SALES"), (string?)charts[1].Attribute("aria-label"));
        // October has no lottery figure yet: the series ends in September, drawn as eleven bars, not as a zero twelfth.
        Assert.Equal(11, charts[1].Elements().Count(e => e.Name.LocalName == "rect"));
        // Every chart writes out its latest value.
        Assert.All(charts.Skip(1), chart => Assert.Single(chart.Elements(), e => (string?)e.Attribute("class") == "value"));
    }

    [Fact]
    public async Task The_markdown_says_the_same_plainly_and_the_same_every_time()
    {
        var md = await _client.MarkdownAsync(ReportKit.Round, Period);
        ReportKit.IsPlainMarkdown(md);
        await AssertContentAsync(md);
        Assert.StartsWith("# 「八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视」整改进展情况（截至2025年10月）\n", md);
        Assert.Contains("\n## 一、总体进展\n", md);
        Assert.Contains("\n## 二、各问题整改落实情况\n", md);
        Assert.Contains("\n## 三、下一步整改工作安排\n", md);
        Assert.Contains("\n### （一）关于“殡葬改革推行不力”的问题\n", md);
        Assert.Contains("\n#### 1. 整治殡葬乱象（推进中，进度85%", md);
        Assert.Contains("| 序号 | 整改措施 | 所属问题 | 责任单位 | 完成时限 | 进度 | 状态 |", md);
        Assert.Contains("| 2025-09 |", md); // the monthly series as a table
        Assert.DoesNotContain("<", md);

        Assert.Equal(md, await _client.MarkdownAsync(ReportKit.Round, Period));
    }

    [Fact]
    public async Task Every_unfinished_measure_is_listed_with_owner_due_date_and_light()
    {
        var measures = (await _client.GetJsonAsync($"/api/v1/measures?round={ReportKit.Round}&limit=200"))["items"]!.AsArray();
        var open = measures.Where(m => m!["state"]!.GetValue<string>() is "planned" or "in_progress").ToList();
        Assert.NotEmpty(open);
        var md = await _client.MarkdownAsync(ReportKit.Round, Period);
        var next = md[md.IndexOf("## 三、下一步整改工作安排", StringComparison.Ordinal)..];
        var rows = next.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsAsciiDigit(l[2])).ToList();
        Assert.Equal(open.Count, rows.Count);
        foreach (var measure in open.OfType<System.Text.Json.Nodes.JsonNode>())
        {
            var row = Assert.Single(rows, r => r.Contains($"| {measure["code"]!.GetValue<string>()} {measure["title"]!.GetValue<string>()} |", StringComparison.Ordinal));
            var due = DateOnly.ParseExact(measure["dueDate"]!.GetValue<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture);
            Assert.Contains($"| {due.Year}年{due.Month}月{due.Day}日 |", row);
            Assert.Matches(@"\| (\*\*逾期\*\*|临期|正常) \|$", row);
        }
        Assert.Contains($"尚有{open.Count}项整改措施未完成", md);
    }

    [Fact]
    public async Task A_month_not_yet_begun_has_no_report()
    {
        using var response = await _client.GetAsync(ReportKit.Url(ReportKit.Round, "2026-01"), TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["period"]);
    }
}
