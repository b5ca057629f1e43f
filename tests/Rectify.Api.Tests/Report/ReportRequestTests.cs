using System.Net;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Indicators;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Report;

/// <summary>
/// The report's request checks, and data that tries to be markup: titles, notes, categories and indicator names are
/// written by calling systems, and the page must show them as text in both formats.
/// </summary>
public sealed class ReportRequestTests : IClassFixture<RectifyApp>
{
    const string Script = "<script>alert(1)</script>";
    const string Description = "# 标题\n- 列表项 *强调* _下划线_ [链接](http://evil.example/x) | 管道 & &amp; `代码` <b>粗</b>\n1. 编号 > 引用";
    readonly RectifyApp _app;
    readonly HttpClient _client;
    readonly Seed _seed;

    public ReportRequestTests(RectifyApp app)
    {
        _app = app;
        app.AtReportDay();
        _client = app.Client();
        _seed = new Seed(app);
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<string> RoundAsync(string name, string inspectedUnit = "HNMZT")
    {
        await _seed.UnitsAsync();
        var code = Seed.Unique("R");
        using var response = await _client.PostJsonAsync("/api/v1/rounds", new
        {
            code, name, inspectedUnit, inspectionBody = "八届省委第六轮巡视第六巡视组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31",
            feedbackDate = "2025-02-28", rectificationDeadline = "2025-05-31", state = "rectifying",
        });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return code;
    }

    async Task<long> MeasureAsync(long issueId, string code, string title, string? description, string dueDate)
    {
        using var response = await _client.PostJsonAsync("/api/v1/measures", new
        {
            issueId, code, title, description, ownerUnit = "HNMZT.SHSW", startDate = "2025-03-01", dueDate,
        });
        return Id(await response.ShouldBeAsync(HttpStatusCode.Created));
    }

    static long Id(System.Text.Json.Nodes.JsonNode node) => node["id"]!.GetValue<long>();

    /// <summary>A round whose every free text is hostile: an overdue measure, a sub-issue's measure, a note, an indicator.</summary>
    async Task<string> HostileRoundAsync()
    {
        var round = await RoundAsync("<b>轮次</b> & “巡视”");
        var area = Id(await _seed.IssueAsync(round, code: "1", title: "<img src=x onerror=alert(2)>殡葬改革推行不力", category: "</style><script>alert(3)</script>"));
        var sub = Id(await _seed.IssueAsync(round, code: "1.1", title: "子问题 *斜体* | 管道", parentId: area));
        var overdue = await MeasureAsync(area, "1", Script, Description, "2025-09-30");
        await MeasureAsync(sub, "1", "1) 子措施 ~~删除~~", "+ 加号开头\n= 等号开头", "2026-06-30");
        using (var progress = await _client.PostJsonAsync($"/api/v1/measures/{overdue}/progress",
                   new { reportedOn = "2025-10-15", percent = 40, note = "<img src=x onerror=alert(4)> 进展\u0001说明" }))
            await progress.ShouldBeAsync(HttpStatusCode.Created);

        var indicators = new IndicatorKit(_app);
        var body = IndicatorKit.Body(name: "<svg onload=alert(5)>指标");
        body["issues"] = new[] { area };
        var indicator = await indicators.CreateCodeAsync(body);
        await indicators.PushAsync((indicator, "460000", "2025-09", 10m), (indicator, "460000", "2025-10", 12.5m));
        return round;
    }

    [Fact]
    public async Task Hostile_text_comes_out_as_text_in_html()
    {
        var round = await HostileRoundAsync();
        var html = await _client.HtmlAsync(round, "2025-10");

        var page = ReportKit.Parse(html);
        ReportKit.LoadsNothing(html, page, dataHoldsUrls: true);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<svg onload", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("</style><", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);

        var text = ReportKit.VisibleText(page);
        Assert.Contains($"1. {Script}", text);
        Assert.Contains("关于“<img src=x onerror=alert(2)>殡葬改革推行不力”的问题", text);
        Assert.Contains("问题领域：</style><script>alert(3)</script>", text);
        Assert.Contains("「<b>轮次</b> & “巡视”」整改进展情况（截至2025年10月）", text);
        Assert.Contains("# 标题", text);
        Assert.Contains("最新进展： <img src=x onerror=alert(4)> 进展说明", text); // control characters dropped
        Assert.Contains("<svg onload=alert(5)>指标：12.5万元（较上月增加2.5万元）", text);
        Assert.Contains("所属子问题：1.1 子问题 *斜体* | 管道", text);
        Assert.Contains("巡视反馈问题共2个（含子问题1个）", text);
        // The indicator is charted, its name as text in the chart's label.
        Assert.Contains(page.Descendants().Where(e => e.Name.LocalName == "svg").Select(e => (string?)e.Attribute("aria-label")),
            label => label is not null && label.StartsWith("<svg onload=alert(5)>指标", StringComparison.Ordinal));
        // Overdue in red, in the measure's heading and in the list of what remains.
        Assert.Contains("<span class=\"badge light light-red\">逾期</span>", html);
        Assert.Contains("<td class=\"light-red\">逾期</td>", html);
    }

    [Fact]
    public async Task Hostile_text_comes_out_as_text_in_markdown()
    {
        var round = await HostileRoundAsync();
        var md = await _client.MarkdownAsync(round, "2025-10");
        ReportKit.IsPlainMarkdown(md);

        var lines = md.Split('\n');
        Assert.Equal("# 「\\<b\\>轮次\\</b\\> \\& “巡视”」整改进展情况（截至2025年10月）", lines[0]);
        Assert.Contains("#### 1. \\<script\\>alert(1)\\</script\\>（推进中，进度40%，**逾期**）", lines);
        Assert.Contains("\\# 标题", lines);
        Assert.Contains("\\- 列表项 \\*强调\\* \\_下划线\\_ \\[链接\\](http://evil.example/x) \\| 管道 \\& \\&amp; \\`代码\\` \\<b\\>粗\\</b\\>", lines);
        Assert.Contains("1\\. 编号 \\> 引用", lines);
        Assert.Contains("\\+ 加号开头", lines);
        Assert.Contains("\\= 等号开头", lines);
        Assert.Contains("#### 2. 1) 子措施 \\~\\~删除\\~\\~（计划，进度0%，正常）", lines);
        Assert.Contains("最新进展：\\<img src=x onerror=alert(4)\\> 进展说明", lines);
        Assert.Contains(lines, l => l.StartsWith("| 1 | 1 \\<script\\>alert(1)\\</script\\> | \\<img src=x onerror=alert(2)\\>殡葬改革推行不力 | 社会事务处 | 2025年9月30日 | 40% | **逾期** |", StringComparison.Ordinal));
        // Every markup character that came from the data is escaped.
        for (var i = 0; i < md.Length; i++)
        {
            if (md[i] is '<' or '>' or '&' or '`' or '[' or ']' or '~') Assert.True(i > 0 && md[i - 1] == '\\', $"unescaped {md[i]} in: {Line(md, i)}");
        }
        // Headings are the report's own: the title, the sections, the areas, the measures and the series table.
        Assert.All(lines.Where(l => l.StartsWith('#')), l => Assert.Matches(@"^(# 「|## [一二三]、|### （|### 主要指标|#### \d+\. )", l));
    }

    static string Line(string text, int index)
    {
        var start = text.LastIndexOf('\n', index) + 1;
        var end = text.IndexOf('\n', index);
        return text[start..(end < 0 ? text.Length : end)];
    }

    [Fact]
    public async Task Without_a_region_there_are_no_indicator_charts_only_the_completion_trend()
    {
        await _app.ScalarAsync<int>("INSERT INTO units (code, name, kind) VALUES ('LONE', '独立单位', 'department') ON CONFLICT DO NOTHING; SELECT 1;");
        var round = await RoundAsync("独立单位巡视", inspectedUnit: "LONE");
        await _seed.IssueAsync(round, code: "1");
        var html = await _client.HtmlAsync(round, "2025-10");
        var page = ReportKit.Parse(html);
        var chart = Assert.Single(page.Descendants(), e => e.Name.LocalName == "svg" && ((string?)e.Attribute("class"))?.StartsWith("chart", StringComparison.Ordinal) == true);
        Assert.Contains("整改措施完成率", (string?)chart.Attribute("aria-label"));
        Assert.Contains("尚未制定整改措施。", ReportKit.VisibleText(page));
        Assert.Contains("未关联地区", ReportKit.VisibleText(page));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2025-13")]
    [InlineData("2025-Q3")]
    [InlineData("2025")]
    [InlineData("2025-1")]
    [InlineData("十月")]
    public async Task A_missing_or_malformed_period_is_400_naming_period(string? period)
    {
        var round = await RoundAsync("巡视");
        using var response = await _client.GetAsync(ReportKit.Url(round, period), Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["period"]);
        Assert.Null(problem["errors"]!["format"]);
    }

    [Theory]
    [InlineData("xlsx")]
    [InlineData("HTML")]
    [InlineData("markdown")]
    [InlineData("")]
    public async Task An_unknown_format_is_400_naming_format(string format)
    {
        var round = await RoundAsync("巡视");
        using var response = await _client.GetAsync(ReportKit.Url(round, "2025-10", format), Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["format"]);
        Assert.Null(problem["errors"]!["period"]);
    }

    [Fact]
    public async Task Both_bad_are_named_together()
    {
        using var response = await _client.GetAsync(ReportKit.Url("NO-SUCH-ROUND", "2025/10", "docx"), Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["period"]);
        Assert.NotNull(problem["errors"]!["format"]);
    }

    [Fact]
    public async Task An_unknown_round_is_404()
    {
        foreach (var format in new[] { "html", "md" })
        {
            using var response = await _client.GetAsync(ReportKit.Url("NO-SUCH-ROUND", "2025-10", format), Ct);
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        }
    }

    [Fact]
    public async Task A_key_without_the_read_scope_is_403()
    {
        var round = await RoundAsync("巡视");
        var key = await _app.CreateClientAsync(Seed.Unique("pusher"), ["push"]);
        using var response = await _app.ClientWith(key).GetAsync(ReportKit.Url(round, "2025-10"), Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains("'read'", problem["detail"]!.GetValue<string>());
    }
}
