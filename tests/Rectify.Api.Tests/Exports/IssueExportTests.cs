using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;

namespace Rectify.Api.Tests.Exports;

/// <summary>
/// GET /api/v1/issues/export: a download of every issue the filters select, with the list item's
/// scalar fields as columns, that spreadsheet programs open with the Chinese text intact and cannot run as formulas.
/// Each test builds its own round and filters by it.
/// </summary>
public sealed class IssueExportTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    internal const string Header = "id,round,parentId,code,title,description,category,leadUnit,responsibleLeader,state,dueDate,overdue,progress,measureCount,"
        + "reviewRequestedAt,reviewRequestedBy,reviewNote,closedOn,reviewer,conclusion,watchUntil,consolidating,createdAt,updatedAt,originalDueDate,deferralCount,warningLevel";

    readonly IssueKit _kit = new(app);
    readonly ExportKit _export = new(app);

    Seed Seed => _kit.Seed;

    [Fact]
    public async Task The_export_is_a_utf8_download_with_bom_the_exact_header_and_crlf_line_ends()
    {
        var round = await Seed.RoundAsync();
        await Seed.IssueAsync(round, title: "殡葬改革推行不力", description: "殡葬服务收费不规范，基础设施建设滞后。\n节地生态安葬推进缓慢。");
        await Seed.IssueAsync(round, title: "社会救助兜底保障不够精准");

        var file = await _export.CsvAsync($"/api/v1/issues/export?round={round}");
        using var response = file.Response;

        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("issues.csv", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.StartsWith(Header + "\r\n", file.Text, StringComparison.Ordinal);
        Assert.Equal(Header.Split(','), file.Header);
        ExportKit.AssertCrlfLineEnds(file.Text);
        Assert.Equal(["殡葬改革推行不力", "社会救助兜底保障不够精准"], file.Records.Select(r => r["title"]));
        Assert.Equal("殡葬服务收费不规范，基础设施建设滞后。\n节地生态安葬推进缓慢。", file.Records[0]["description"]);
        Assert.All(file.Rows, row => Assert.Equal(file.Header.Count, row.Count));
    }

    [Fact]
    public async Task Every_field_is_the_json_list_items_value()
    {
        var round = await Seed.RoundAsync();
        var parent = await _kit.IssueInStateAsync(round, "in_progress");
        await Seed.IssueAsync(round, parentId: parent, title: "公墓建设审批不规范", dueDate: null);
        var overdue = IssueKit.Id(await Seed.IssueAsync(round, dueDate: "2025-06-01", category: "社会救助"));
        var pending = await _kit.IssueInStateAsync(round, "pending_review");
        var closed = await _kit.IssueInStateAsync(round, "closed");
        var measured = IssueKit.Id(await Seed.IssueAsync(round));
        var measure = IssueKit.Id(await Seed.MeasureAsync(measured));
        await _kit.ReportProgressAsync(measure, 37.5m);
        await Seed.MeasureAsync(measured);
        var now = app.Clock.GetUtcNow().UtcDateTime;
        app.Clock.Advance(TimeSpan.FromMilliseconds(1234.5) - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerSecond)); // an instant at .2345 s
        var movedAt = app.Clock.GetUtcNow().UtcDateTime;
        await _kit.MoveAsync(measured, "in_progress");

        var file = await _export.CsvAsync($"/api/v1/issues/export?round={round}");
        using var response = file.Response;
        var items = await ExportKit.AllItemsAsync(_kit.Client, $"/api/v1/issues?round={round}");

        Assert.Equal(items.Select(i => i["id"]!.GetValue<long>()), file.Ids);
        foreach (var (item, record) in items.Zip(file.Records))
        {
            foreach (var column in file.Header) Assert.Equal(ExportKit.Render(JsonValueOf(item, column)), record[column]);
        }
        var byId = file.Records.ToDictionary(r => long.Parse(r["id"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(parent.ToString(System.Globalization.CultureInfo.InvariantCulture), file.Records.Single(r => r["title"] == "公墓建设审批不规范")["parentId"]);
        Assert.Equal("", file.Records.Single(r => r["title"] == "公墓建设审批不规范")["dueDate"]);
        Assert.Equal("true", byId[overdue]["overdue"]);
        Assert.Equal("pending_review", byId[pending]["state"]);
        Assert.Equal("整改措施已全部完成，申请销号。", byId[pending]["reviewNote"]);
        Assert.Equal(RectifyApp.ClientName, byId[pending]["reviewRequestedBy"]);
        Assert.Equal("closed", byId[closed]["state"]);
        Assert.Equal("2025-06-15", byId[closed]["closedOn"]);
        Assert.StartsWith("reviewer-", byId[closed]["reviewer"]); // the reviewing client, as on the JSON item
        Assert.Equal("整改到位，同意销号。", byId[closed]["conclusion"]);
        Assert.Equal("2", byId[measured]["measureCount"]);
        Assert.Equal("18.8", byId[measured]["progress"]); // (37.5 + 0) / 2, rounded to one place as in JSON
        Assert.Equal(movedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'.2345Z'", System.Globalization.CultureInfo.InvariantCulture), byId[measured]["updatedAt"]);
    }

    /// <summary>The JSON value behind a CSV column: the item's own field, or a field of its review or closure.</summary>
    static JsonNode? JsonValueOf(JsonNode item, string column) => column switch
    {
        "reviewRequestedAt" => item["review"]?["requestedAt"],
        "reviewRequestedBy" => item["review"]?["requestedBy"],
        "reviewNote" => item["review"]?["note"],
        "closedOn" or "reviewer" or "conclusion" or "watchUntil" => item["closure"]?[column],
        _ => item.AsObject().TryGetPropertyValue(column, out var value) ? value : throw new InvalidOperationException($"The list item has no {column}."),
    };

    [Fact]
    public async Task Csv_columns_are_the_list_items_fields_in_the_same_order()
    {
        var round = await Seed.RoundAsync();
        await Seed.IssueAsync(round);
        var file = await _export.CsvAsync($"/api/v1/issues/export?round={round}");
        using var response = file.Response;
        var item = (await ExportKit.AllItemsAsync(_kit.Client, $"/api/v1/issues?round={round}")).Single().AsObject();

        // Flattened review/closure columns stand where the JSON has the objects; every other column is a JSON name, in order.
        var jsonOrder = item.Select(p => p.Key).SelectMany(key => key switch
        {
            "review" => ["reviewRequestedAt", "reviewRequestedBy", "reviewNote"],
            "closure" => ["closedOn", "reviewer", "conclusion", "watchUntil"],
            "allowedTransitions" => [],
            _ => new[] { key },
        }).ToList();
        Assert.Equal(jsonOrder, file.Header);
    }

    [Fact]
    public async Task Quotes_commas_line_breaks_and_chinese_text_survive_and_formulas_are_neutralised()
    {
        var round = await Seed.RoundAsync();
        string[] titles =
        [
            "他说\"整改\"已完成，但是, 仍需复核",
            "第一行\r\n第二行\n第三行",
            "=HYPERLINK(\"http://evil.example\",\"点击\")",
            "+86 898 6533",
            "-2+3",
            "@SUM(A1:A9)",
            "\t=1+1",
            "殡葬改革推行不力 — 海南省民政厅（琼民发〔2025〕12号）",
        ];
        foreach (var title in titles) await Seed.IssueAsync(round, title: title, description: title);

        var file = await _export.CsvAsync($"/api/v1/issues/export?round={round}");
        using var response = file.Response;

        string[] expected =
        [
            titles[0], titles[1], "'" + titles[2], "'" + titles[3], "'" + titles[4], "'" + titles[5], "'" + titles[6], titles[7],
        ];
        Assert.Equal(expected, file.Records.Select(r => r["title"]));
        Assert.Equal(expected, file.Records.Select(r => r["description"]));
        Assert.Contains(",\"他说\"\"整改\"\"已完成，但是, 仍需复核\",", file.Text, StringComparison.Ordinal);
        Assert.Contains(",\"第一行\r\n第二行\n第三行\",", file.Text, StringComparison.Ordinal);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点击\"\")\",", file.Text, StringComparison.Ordinal);
        Assert.Contains(",'@SUM(A1:A9),", file.Text, StringComparison.Ordinal);
        // Every record is whole: a line break or comma inside a field did not split it.
        Assert.Equal(titles.Length, file.Rows.Count);
        Assert.All(file.Rows, row => Assert.Equal(file.Header.Count, row.Count));
        // Codes and numbers are not text: a negative number would stay a number (none here), ids are bare.
        Assert.All(file.Records, r => Assert.Matches("^[0-9]+$", r["id"]));
    }

    [Theory]
    [InlineData("&state=in_progress")]
    [InlineData("&state=open&overdue=false")]
    [InlineData("&overdue=true")]
    [InlineData("&category=社会救助")]
    [InlineData("&topLevel=false")]
    [InlineData("&q=兜底")]
    [InlineData("&leadUnit=HNMZT.SHSW&limit=1")] // limit does not page an export
    [InlineData("&leadUnit=NO-SUCH-UNIT")]
    public async Task The_export_has_exactly_the_issues_the_filters_select(string filter)
    {
        var round = await Seed.RoundAsync();
        var parent = await _kit.IssueInStateAsync(round, "in_progress");
        await Seed.IssueAsync(round, parentId: parent);
        await Seed.IssueAsync(round, dueDate: "2025-06-01", category: "社会救助", title: "社会救助兜底保障不够精准");
        await _kit.IssueInStateAsync(round, "long_term");
        await Seed.IssueAsync(round);

        var file = await _export.CsvAsync($"/api/v1/issues/export?round={round}{filter}");
        using var response = file.Response;
        var expected = await ExportKit.JsonIdsAsync(_kit.Client, $"/api/v1/issues?round={round}{filter.Replace("&limit=1", "", StringComparison.Ordinal)}");

        Assert.Equal(expected, file.Ids);
        Assert.All(file.Records, r => Assert.Equal(round, r["round"]));
        if (filter.Contains("NO-SUCH", StringComparison.Ordinal)) Assert.Equal(Header + "\r\n", file.Text);
        else Assert.NotEmpty(expected);
    }

    [Fact]
    public async Task More_issues_than_one_page_are_all_exported_once_in_order()
    {
        var round = await Seed.RoundAsync();
        // Past the largest JSON page (200) and the export's own read size, and past the default page of 50 by far.
        await app.ScalarAsync<int>("""
            INSERT INTO issues (round_id, code, title, category, lead_unit_code, state, due_date, created_at, updated_at)
            SELECT r.id, 'B' || n, '批量问题' || n, '殡葬管理', 'HNMZT.SHSW', 'open', DATE '2025-12-31', now(), now()
            FROM rounds r, generate_series(1, 437) AS n WHERE r.code = @round ORDER BY n;
            SELECT 1;
            """, new { round });

        var page = await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}");
        Assert.Equal(50, page["items"]!.AsArray().Count);
        Assert.NotNull(page["nextCursor"]);

        var file = await _export.CsvAsync($"/api/v1/issues/export?round={round}");
        using var response = file.Response;
        Assert.Equal(437, file.Rows.Count);
        Assert.Equal(file.Ids.Order(), file.Ids);
        Assert.Equal(437, file.Ids.Distinct().Count());
        Assert.Equal(Enumerable.Range(1, 437).Select(n => "批量问题" + n), file.Records.Select(r => r["title"]));
    }

    [Theory]
    [InlineData("state=finished", "state")]
    [InlineData("state=InProgress", "state")]
    [InlineData("overdue=maybe", "overdue")]
    [InlineData("parent=abc", "parent")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    public async Task A_bad_filter_asked_as_csv_is_a_json_problem(string query, string field)
    {
        var (response, _) = await _export.GetAsync($"/api/v1/issues/export?{query}");
        using (response)
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            Assert.NotNull(problem["errors"]![field]);
            Assert.Null(response.Content.Headers.ContentDisposition);
        }
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("*/*")]
    [InlineData("text/html")]
    [InlineData("text/csv;q=0.5, application/json")]
    [InlineData("text/csv;q=0")]
    public async Task The_list_answers_the_json_page_to_an_accept_that_does_not_prefer_csv(string accept)
    {
        var round = await Seed.RoundAsync();
        await Seed.IssueAsync(round);
        await Seed.IssueAsync(round);
        var (response, body) = await _export.GetAsync($"/api/v1/issues?round={round}&limit=1", accept);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Accept", response.Headers.Vary); // another Accept gets a 406
            var page = JsonNode.Parse(Encoding.UTF8.GetString(body))!;
            Assert.Single(page["items"]!.AsArray());
            Assert.NotNull(page["nextCursor"]);
        }
    }

    /// <summary>The list used to answer CSV to Accept: text/csv; the CSV has its own operation now, and the list says where.</summary>
    [Theory]
    [InlineData("/api/v1/issues", "text/csv")]
    [InlineData("/api/v1/issues", "application/json;q=0.1, text/csv")]
    [InlineData("/api/v1/measures", "text/csv")]
    [InlineData("/api/v1/data-values", "text/csv")]
    public async Task A_list_asked_for_csv_is_a_406_naming_the_export(string path, string accept)
    {
        var (response, _) = await _export.GetAsync($"{path}?limit=1", accept);
        using (response)
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotAcceptable, "not-acceptable");
            Assert.Contains($"GET {path}/export", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("text/csv")]
    [InlineData("application/json")]
    [InlineData("*/*")]
    public async Task The_export_answers_csv_whatever_the_accept(string accept)
    {
        var round = await Seed.RoundAsync();
        await Seed.IssueAsync(round);
        await Seed.IssueAsync(round);
        var (response, body) = await _export.GetAsync($"/api/v1/issues/export?round={round}", accept);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(1 + 2, ExportKit.Parse(Encoding.UTF8.GetString(body).TrimStart('\uFEFF')).Count);
        }
    }
}
