using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Workbooks;

/// <summary>
/// A push's rejected rows are named by their row (the sheet row number of an xlsx push) and said in the caller's
/// language: <c>第12行：…</c> with <c>Accept-Language: zh-CN</c>, <c>Row 12: …</c> in English. The summary's fields
/// (<c>row</c>, <c>field</c>) and the problem's type are the same in both; only the words change.
/// </summary>
public sealed class RejectedRowLanguageTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    HttpClient Client(string? language)
    {
        var client = app.Client();
        if (language is not null) client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        return client;
    }

    static Dictionary<long, (string Field, string Message)> Rows(JsonNode summary) => summary["errors"]!.AsArray()
        .ToDictionary(e => e!["row"]!.GetValue<long>(), e => (e!["field"]!.GetValue<string>(), e["message"]!.GetValue<string>()));

    /// <summary>A sheet with a good row and four rejected ones, a blank row among them (rows keep their sheet numbers).</summary>
    static Task<byte[]> WorkbookAsync(string indicator) => WorkbookKit.SheetAsync("指标代码,单位代码,期间,数值,备注",
    [
        [indicator, "460000", "2025-09", 12m, null],        // row 2: lands
        ["NO-SUCH-IND", "460000", "2025-09", 1m, null],     // row 3
        [indicator, "999999", "2025-09", 1m, null],         // row 4
        [null, null, null, null, null],                     // row 5: blank, skipped
        [indicator, "460100", "2025-13", 1m, null],         // row 6
        [indicator, "460105", "2025-09", "1,200", null],    // row 7
    ]);

    [Theory]
    [InlineData("zh-CN")]
    [InlineData("zh")]
    public async Task An_xlsx_push_names_rejected_rows_by_sheet_row_in_chinese(string language)
    {
        var indicator = await _kit.IndicatorAsync();
        using var response = await _kit.PushBytesAsync(await WorkbookAsync(indicator), WorkbookKit.MediaType, "atomic=false",
            client: Client(language));
        Assert.Equal("zh", response.Content.Headers.ContentLanguage.Single());
        var summary = await ImportKit.AppliedAsync(response);
        ImportKit.Counts(summary, received: 5, inserted: 1, rejected: 4);

        var rows = Rows(summary);
        Assert.Equal([3L, 4L, 6L, 7L], rows.Keys.Order());
        Assert.Equal(("indicator", "第3行：未知指标“NO-SUCH-IND”。"), rows[3]);
        Assert.Equal(("unit", "第4行：未知单位“999999”。"), rows[4]);
        Assert.Equal(("period", $"第6行：“2025-13”不是指标“{indicator}”的期间，请写作 YYYY-MM，例如 2025-09。"), rows[6]);
        Assert.Equal(("value", "第7行：“1,200”不是数字：请只用数字，可带“-”和“.”（不加千位分隔符）。"), rows[7]);
    }

    [Fact]
    public async Task An_xlsx_push_names_rejected_rows_by_sheet_row_in_english_with_or_without_the_header()
    {
        var indicator = await _kit.IndicatorAsync();
        var xlsx = await WorkbookAsync(indicator);
        foreach (var language in new[] { "en", null })
        {
            using var response = await _kit.PushBytesAsync(xlsx, WorkbookKit.MediaType, "dryRun=true", client: Client(language));
            Assert.Equal("en", response.Content.Headers.ContentLanguage.Single());
            var rows = Rows(await ImportKit.AppliedAsync(response));
            Assert.Equal(("indicator", "Row 3: Unknown indicator 'NO-SUCH-IND'."), rows[3]);
            Assert.Equal(("unit", "Row 4: Unknown unit '999999'."), rows[4]);
            Assert.Equal(("period", $"Row 6: '2025-13' is not a period of '{indicator}': use YYYY-MM, e.g. 2025-09."), rows[6]);
            Assert.StartsWith("Row 7: '1,200' is not a number", rows[7].Message);
        }
    }

    [Fact]
    public async Task A_refused_csv_push_says_its_problem_and_its_rows_in_chinese_and_english_alike()
    {
        var indicator = await _kit.IndicatorAsync();
        var ratio = await _kit.RatioIndicatorAsync();
        var csv = ImportKit.Csv(
        [
            $"{indicator},460000,2025-09,5,",
            $"{ratio},460000,2025-09,5,",
            $"{indicator},460000,2025-09,6,",
            $"{indicator},460100,2025-09,,",
            $"{indicator},460105",
        ]);
        var bytes = Encoding.UTF8.GetBytes(csv);

        using var zhResponse = await _kit.PushBytesAsync(bytes, "text/csv", client: Client("zh-CN"));
        Assert.Equal("zh", zhResponse.Content.Headers.ContentLanguage.Single());
        var zhProblem = await zhResponse.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "import-rejected");
        Assert.Equal("5 行中有 4 行被拒绝；本次报送为整体提交，因此未写入任何数据。详见 summary.errors；请更正这些行，或以 atomic=false 报送以写入正确的行。",
            zhProblem["detail"]!.GetValue<string>());
        var zh = Rows(zhProblem["summary"]!);
        Assert.Equal(("indicator", $"第3行：“{ratio}”是比率指标：由分子和分母计算得出，不能报送。"), zh[3]);
        Assert.Equal(("row", "第4行：与第2行重复：同一指标、单位和期间在本次报送中出现了两次。"), zh[4]);
        Assert.Equal(("value", "第5行：缺少数值。"), zh[5]);
        Assert.Equal(("row", "第6行：该行只有 2 列，须有指标、单位、期间和数值。"), zh[6]);

        using var enResponse = await _kit.PushBytesAsync(bytes, "text/csv", client: Client("en"));
        var en = Rows(await ImportKit.RefusedAsync(enResponse));
        Assert.Equal(("indicator", $"Row 3: '{ratio}' is a ratio indicator: it is computed from its numerator and denominator and cannot be pushed."),
            en[3]);
        Assert.Equal(("row", "Row 4: Duplicate of row 2: the same indicator, unit and period appear twice in this push."), en[4]);
        Assert.Equal(("value", "Row 5: The value is required."), en[5]);
        Assert.Equal(("row", "Row 6: The row has 2 columns; indicator, unit, period and value are needed."), en[6]);
        Assert.Equal(zh.Keys.Order(), en.Keys.Order());
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task Rows_rejected_against_the_database_are_said_in_chinese_too()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-05,5,"])));
        var round = await _kit.PublishLockAsync(indicator, "2025-05");

        var xlsx = await WorkbookKit.SheetAsync(ImportKit.CsvHeader, [[indicator, "460000", "2025-05", 6m, null]]);
        using var locked = await _kit.PushBytesAsync(xlsx, WorkbookKit.MediaType, client: Client("zh-CN"));
        var lockedRows = Rows(await ImportKit.RefusedAsync(locked));
        Assert.Equal(("period", $"第2行：该指标和单位 2025-05 的数据已被已发布的快照 {round} 2025-05（第 1 版）锁定：如需修订，请提供 revisionReason。"),
            lockedRows[2]);

        var other = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{other},460000,2025-05,5,"])));
        var again = await WorkbookKit.SheetAsync(ImportKit.CsvHeader, [[other, "460000", "2025-05", 5m, null]]);
        using var existing = await _kit.PushBytesAsync(again, WorkbookKit.MediaType, "strategy=create", client: Client("zh-CN"));
        Assert.Equal(("row", "第2行：该指标、单位和期间的数据已存在（strategy=create）。"), Rows(await ImportKit.RefusedAsync(existing))[2]);
    }

    [Fact]
    public async Task A_json_push_names_its_elements_in_chinese()
    {
        var indicator = await _kit.IndicatorAsync();
        const string json = """[{"indicator":"X","unit":"460000","period":"2025-09","value":"12"}, 7]""";
        using var response = await _kit.PushBytesAsync(Encoding.UTF8.GetBytes(json.Replace("\"X\"", $"\"{indicator}\"", StringComparison.Ordinal)),
            "application/json", "atomic=false", client: Client("zh-CN"));
        var rows = Rows(await ImportKit.AppliedAsync(response));
        Assert.Equal(("value", "第1行：不是数字：请以 JSON 数字发送 value。"), rows[1]);
        Assert.Equal(("row", "第2行：每个元素须为含 indicator、unit、period 和 value 的对象。"), rows[2]);
    }

    [Theory]
    [InlineData("en")]
    [InlineData("zh-CN")]
    public async Task The_documents_refused_push_examples_are_what_the_service_says(string language)
    {
        var indicator = await _kit.IndicatorAsync();
        var xlsx = await WorkbookKit.SheetAsync(ImportKit.CsvHeader,
        [
            [indicator, "460000", "2025-05", 1m, null],
            [indicator, "469999", "2025-05", 2m, null],
            [indicator, "460100", "2025-05", 3m, null],
            [indicator, "460105", "2025-05", "1,200", null],
        ]);
        using var response = await _kit.PushBytesAsync(xlsx, WorkbookKit.MediaType, client: Client(language));
        var said = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "import-rejected");

        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var example = document["paths"]!["/api/v1/data-values/import"]!["post"]!["responses"]!["422"]!["content"]!
            ["application/problem+json"]!["examples"]![language]!["value"]!;
        foreach (var member in new[] { "type", "title", "detail" })
            Assert.Equal(example[member]!.GetValue<string>(), said[member]!.GetValue<string>());
        Assert.Equal(example["summary"]!["errors"]!.ToJsonString(), said["summary"]!["errors"]!.ToJsonString());
    }
}
