using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Measures;

namespace Rectify.Api.Tests.Exports;

/// <summary>
/// GET /api/v1/measures/export: every measure the filters select, all pages, as one download with the
/// list item's scalar fields as columns. Today is 2025-06-15 in Shanghai (the clock is not moved here).
/// </summary>
public sealed class MeasureExportTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    internal const string Header = "id,issueId,round,code,title,description,ownerUnit,state,progress,startDate,dueDate,completedOn,cancelReason,"
        + "overdue,trafficLight,createdAt,updatedAt,originalDueDate,deferralCount,warningLevel";

    readonly MeasureApi _api = new(app);
    readonly ExportKit _export = new(app);

    HttpClient Client => _api.Client;

    async Task<long> CreateAsync(long issueId, string title = "整治殡葬乱象", string? description = null, string dueDate = "2025-12-31",
        string owner = "HNMZT.SHSW", string? startDate = "2025-03-01")
    {
        var body = MeasureApi.CreateBody(issueId, dueDate: dueDate, startDate: startDate, owner: owner, title: title);
        body["description"] = description;
        using var response = await Client.PostJsonAsync("/api/v1/measures", body);
        return (await response.ShouldBeAsync(HttpStatusCode.Created))["id"]!.GetValue<long>();
    }

    /// <summary>
    /// One round, two issues, six measures in every state and light: planned green, in_progress yellow, planned red
    /// (overdue), done, cancelled (no light), in_progress with progress 62.5.
    /// </summary>
    async Task<(string Round, long Issue1, long Issue2)> ScenarioAsync()
    {
        var (issue1, round) = await _api.IssueAsync();
        var issue2 = await _api.IssueInAsync(round);
        await CreateAsync(issue1, "建立殡葬服务收费公示制度", "全省殡仪馆收费项目、标准全部公示。");
        var yellow = await CreateAsync(issue1, "加大殡葬基础设施建设力度", dueDate: "2025-06-20", owner: "HNMZT.SHJZ");
        await _api.MoveToAsync(yellow, "in_progress");
        await CreateAsync(issue1, "整治违规墓地", dueDate: "2025-06-14", startDate: null);
        var done = await CreateAsync(issue2, "修订海南省公墓管理办法", dueDate: "2025-06-01", owner: "HNMZT.SHJZ");
        await _api.MoveToAsync(done, "done");
        var cancelled = await CreateAsync(issue2, "建设省级殡葬信息平台", dueDate: "2025-05-01");
        await _api.MoveToAsync(cancelled, "cancelled");
        var progressing = await CreateAsync(issue2, "推进节地生态安葬", dueDate: "2025-06-25");
        await _api.AddProgressAsync(progressing, "2025-06-10", 62.5m, "完成62.5%");
        return (round, issue1, issue2);
    }

    [Fact]
    public async Task The_export_is_a_utf8_download_with_bom_the_exact_header_and_crlf_line_ends()
    {
        var (round, _, _) = await ScenarioAsync();
        var file = await _export.CsvAsync($"/api/v1/measures/export?round={round}");
        using var response = file.Response;

        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("measures.csv", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.StartsWith(Header + "\r\n", file.Text, StringComparison.Ordinal);
        Assert.Equal(Header.Split(','), file.Header);
        ExportKit.AssertCrlfLineEnds(file.Text);
        Assert.Equal(6, file.Rows.Count);
        Assert.Equal(["建立殡葬服务收费公示制度", "加大殡葬基础设施建设力度", "整治违规墓地", "修订海南省公墓管理办法", "建设省级殡葬信息平台", "推进节地生态安葬"],
            file.Records.Select(r => r["title"]));
        Assert.Equal("全省殡仪馆收费项目、标准全部公示。", file.Records[0]["description"]);
    }

    [Fact]
    public async Task Every_field_is_the_json_list_items_value_and_the_columns_follow_its_order()
    {
        var (round, _, _) = await ScenarioAsync();
        var file = await _export.CsvAsync($"/api/v1/measures/export?round={round}");
        using var response = file.Response;
        var items = await ExportKit.AllItemsAsync(Client, $"/api/v1/measures?round={round}");

        Assert.Equal(items[0].AsObject().Select(p => p.Key).Where(k => k != "allowedTransitions"), file.Header);
        Assert.Equal(items.Select(i => i["id"]!.GetValue<long>()), file.Ids);
        foreach (var (item, record) in items.Zip(file.Records))
        {
            foreach (var column in file.Header) Assert.Equal(ExportKit.Render(item[column]), record[column]);
        }
        Assert.Equal(["green", "yellow", "red", "green", "", "yellow"], file.Records.Select(r => r["trafficLight"]));
        Assert.Equal(["false", "false", "true", "false", "false", "false"], file.Records.Select(r => r["overdue"]));
        Assert.Equal(["planned", "in_progress", "planned", "done", "cancelled", "in_progress"], file.Records.Select(r => r["state"]));
        Assert.Equal("与其他措施合并", file.Records[4]["cancelReason"]);
        Assert.Equal("2025-06-15", file.Records[3]["completedOn"]);
        Assert.Equal("", file.Records[2]["startDate"]);
        Assert.Equal(62.5m, decimal.Parse(file.Records[5]["progress"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Quotes_commas_line_breaks_and_formulas_in_measures_are_escaped()
    {
        var (issue, round) = await _api.IssueAsync();
        await CreateAsync(issue, "=cmd|' /C calc'!A0", "-1,\"引号\"\n换行");
        await CreateAsync(issue, "+整治殡葬乱象", "@提醒");
        await CreateAsync(issue, "推进\"互联网+殡葬\"服务, 全省覆盖", "第一段\r\n第二段");

        var file = await _export.CsvAsync($"/api/v1/measures/export?round={round}");
        using var response = file.Response;

        Assert.Equal(["'=cmd|' /C calc'!A0", "'+整治殡葬乱象", "推进\"互联网+殡葬\"服务, 全省覆盖"], file.Records.Select(r => r["title"]));
        Assert.Equal(["'-1,\"引号\"\n换行", "'@提醒", "第一段\r\n第二段"], file.Records.Select(r => r["description"]));
        Assert.Contains(",'=cmd|' /C calc'!A0,\"'-1,\"\"引号\"\"\n换行\",", file.Text, StringComparison.Ordinal);
        Assert.Contains(",\"推进\"\"互联网+殡葬\"\"服务, 全省覆盖\",\"第一段\r\n第二段\",", file.Text, StringComparison.Ordinal);
        Assert.All(file.Rows, row => Assert.Equal(file.Header.Count, row.Count));
    }

    [Fact]
    public async Task More_measures_than_a_page_are_all_exported_once_in_order()
    {
        var (big, round) = await _api.IssueAsync();
        var small = await _api.IssueInAsync(round);
        var created = new List<long>();
        for (var i = 0; i < 200; i++) created.Add(await CreateAsync(big, $"措施{i + 1}"));
        for (var i = 0; i < 50; i++) created.Add(await CreateAsync(small, $"措施{i + 201}"));

        var page = await Client.GetJsonAsync($"/api/v1/measures?round={round}");
        Assert.Equal(50, page["items"]!.AsArray().Count);
        Assert.NotNull(page["nextCursor"]);

        var file = await _export.CsvAsync($"/api/v1/measures/export?round={round}");
        using (file.Response)
        {
            Assert.Equal(created, file.Ids);
            Assert.Equal(Enumerable.Range(1, 250).Select(n => $"措施{n}"), file.Records.Select(r => r["title"]));
        }

        // Exactly a full read (200): the export reads on, finds nothing more, and ends without a duplicate.
        var exact = await _export.CsvAsync($"/api/v1/measures/export?issue={big}");
        using (exact.Response) Assert.Equal(created.Take(200), exact.Ids);
    }

    [Theory]
    [InlineData("&state=in_progress")]
    [InlineData("&trafficLight=yellow")]
    [InlineData("&overdue=true")]
    [InlineData("&overdue=false&ownerUnit=HNMZT.SHSW")]
    [InlineData("&dueAfter=2025-06-14&dueBefore=2025-06-25")]
    [InlineData("&ownerUnit=HNMZT.SHJZ&limit=1")] // limit does not page an export
    [InlineData("&state=done&trafficLight=red")]
    public async Task The_export_has_exactly_the_measures_the_filters_select(string filter)
    {
        var (round, issue1, _) = await ScenarioAsync();
        var file = await _export.CsvAsync($"/api/v1/measures/export?round={round}{filter}");
        using var response = file.Response;
        var expected = await ExportKit.JsonIdsAsync(Client, $"/api/v1/measures?round={round}{filter.Replace("&limit=1", "", StringComparison.Ordinal)}");

        Assert.Equal(expected, file.Ids);
        Assert.All(file.Records, r => Assert.Equal(round, r["round"]));
        if (filter.Contains("state=done", StringComparison.Ordinal)) Assert.Equal(Header + "\r\n", file.Text);
        else Assert.NotEmpty(expected);

        var byIssue = await _export.CsvAsync($"/api/v1/measures/export?issue={issue1}{filter}");
        using (byIssue.Response)
        {
            Assert.Equal(await ExportKit.JsonIdsAsync(Client, $"/api/v1/measures?issue={issue1}{filter.Replace("&limit=1", "", StringComparison.Ordinal)}"), byIssue.Ids);
        }
    }

    [Theory]
    [InlineData("state=finished", "state")]
    [InlineData("trafficLight=amber", "trafficLight")]
    [InlineData("trafficLight=Red", "trafficLight")]
    [InlineData("dueBefore=2025-02-30", "dueBefore")]
    [InlineData("issue=abc", "issue")]
    [InlineData("limit=201", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    public async Task A_bad_filter_asked_as_csv_is_a_json_problem(string query, string field)
    {
        var (response, _) = await _export.GetAsync($"/api/v1/measures/export?{query}");
        using (response)
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            Assert.NotNull(problem["errors"]![field]);
            Assert.Null(response.Content.Headers.ContentDisposition);
        }
    }

    [Fact]
    public async Task Accept_application_json_still_gets_the_paged_json_list()
    {
        var (round, _, _) = await ScenarioAsync();
        var (response, body) = await _export.GetAsync($"/api/v1/measures?round={round}&limit=4", "application/json");
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Null(response.Content.Headers.ContentDisposition);
            var page = JsonNode.Parse(Encoding.UTF8.GetString(body))!;
            Assert.Equal(4, page["items"]!.AsArray().Count);
            Assert.NotNull(page["nextCursor"]);
        }
    }
}
