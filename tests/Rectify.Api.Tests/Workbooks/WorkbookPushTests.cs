using System.Net;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;
using SpreadCheetah;

namespace Rectify.Api.Tests.Workbooks;

/// <summary>
/// POST /api/v1/data-values/import with an xlsx workbook: the CSV's columns on the first or a named sheet, headers in
/// English or Chinese, cells typed as numbers, text or dates, formulas with and without a saved result, every push
/// option, and rejected rows named by their sheet row number.
/// </summary>
public sealed class WorkbookPushTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    Task<HttpResponseMessage> PushAsync(byte[] xlsx, string query = "", string? key = null)
        => _kit.PushBytesAsync(xlsx, WorkbookKit.MediaType, query, key);

    [Fact]
    public async Task Numbers_text_numbers_and_chinese_comments_land_as_a_csv_push_would()
    {
        var indicator = await _kit.IndicatorAsync("monthly", "amount");
        var xlsx = await WorkbookKit.SheetAsync(ImportKit.CsvHeader,
        [
            [indicator, "460000", "2025-09", 8520m, "演示拆分；2025年1—9月合计"],
            [indicator, 460100, "2025-09", "0.810", null],      // unit typed as a number, value as text
            [indicator, "460105", "2025-09", -3.5, ""],
        ]);
        var summary = await ImportKit.AppliedAsync(await PushAsync(xlsx));
        ImportKit.Counts(summary, received: 3, inserted: 3);

        var values = await _kit.ValuesAsync(indicator);
        Assert.Equal([("460000", 8520m, "演示拆分；2025年1—9月合计"), ("460100", 0.810m, null), ("460105", -3.5m, null)],
            values.Select(v => (v.Unit, v.Value, v.Comment)).ToArray());
        Assert.Equal(3, values[1].Value.Scale); // the text "0.810" keeps its digits
    }

    [Fact]
    public async Task Chinese_headers_on_a_named_sheet_with_dates_for_periods_land()
    {
        var indicator = await _kit.IndicatorAsync();
        var xlsx = await WorkbookKit.BuildAsync(
            ("说明", _ => [[new Cell("请在“月报表”中填报")]]),
            ("月报表", book =>
            [
                "指标代码,单位代码,期间,数值,备注".Split(',').Select(h => new Cell(h)).ToArray(),
                [new Cell(indicator), new Cell("460000"), WorkbookKit.Date(book, new DateTime(2025, 9, 1)), new Cell(12), new Cell("报告：18.6万人")],
                [new Cell(indicator), new Cell("460100"), WorkbookKit.Date(book, new DateTime(2025, 8, 31)), new Cell(7)],
            ]));

        using (var first = await PushAsync(xlsx)) await first.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation"); // the note sheet has no header

        var summary = await ImportKit.AppliedAsync(await PushAsync(xlsx, "sheet=" + Uri.EscapeDataString("月报表")));
        ImportKit.Counts(summary, received: 2, inserted: 2);
        Assert.Equal([("460000", "2025-09", 12m), ("460100", "2025-08", 7m)],
            (await _kit.ValuesAsync(indicator)).Select(v => (v.Unit, v.Period, v.Value)).ToArray());

        using var missing = await PushAsync(xlsx, "sheet=Sheet9");
        var problem = await missing.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Contains("月报表", problem["errors"]!["sheet"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_formula_counts_with_its_saved_result_and_is_refused_without_one()
    {
        var indicator = await _kit.IndicatorAsync();
        var xlsx = await WorkbookKit.BuildAsync(("Sheet1", _ =>
        [
            ImportKit.CsvHeader.Split(',').Select(h => new Cell(h)).ToArray(),
            [new Cell(indicator), new Cell("460000"), new Cell("2025-09"), new Cell(new Formula("40+2"), 42m)],
            [new Cell(indicator), new Cell("460100"), new Cell("2025-09"), new Cell(new Formula("D2*2"))],
        ]));

        var refused = await ImportKit.RefusedAsync(await PushAsync(xlsx));
        Assert.Equal([(3, "value")], ImportKit.Errors(refused));
        Assert.Contains("formula", ImportKit.Message(refused, 3));
        Assert.Equal(0L, await _kit.CountAsync(indicator));

        var landed = await ImportKit.AppliedAsync(await PushAsync(xlsx, "atomic=false"));
        ImportKit.Counts(landed, received: 2, inserted: 1, rejected: 1);
        Assert.Equal(42m, Assert.Single(await _kit.ValuesAsync(indicator)).Value);
    }

    [Fact]
    public async Task Rejected_rows_are_named_by_their_sheet_row_and_dry_runs_and_replays_write_once()
    {
        var indicator = await _kit.IndicatorAsync();
        var xlsx = await WorkbookKit.SheetAsync(ImportKit.CsvHeader,
        [
            [indicator, "460000", "2025-09", 1m, null],
            [null, null, null, null, null],                       // a blank row 3 is skipped but counts as a sheet row
            [indicator, "460100", "2025-13", 2m, null],           // row 4
            [indicator, "NOPE", "2025-09", 3m, null],             // row 5
            [indicator, "460105", "2025-09", 4m, null],
        ]);

        var dry = await ImportKit.AppliedAsync(await PushAsync(xlsx, "dryRun=true&atomic=false"));
        ImportKit.Counts(dry, received: 4, inserted: 2, rejected: 2);
        Assert.Equal([(4, "period"), (5, "unit")], ImportKit.Errors(dry));
        Assert.Equal(0L, await _kit.CountAsync(indicator));

        var key = Guid.NewGuid().ToString();
        var first = await ImportKit.AppliedAsync(await PushAsync(xlsx, "atomic=false", key));
        var replay = await ImportKit.AppliedAsync(await PushAsync(xlsx, "atomic=false", key));
        Assert.Equal(ImportKit.ImportId(first), ImportKit.ImportId(replay));
        Assert.Equal(2L, await _kit.CountAsync(indicator));
        Assert.Equal(1L, await _kit.PushJournalCountAsync(ImportKit.ImportId(first)));
    }

    [Fact]
    public async Task Delete_takes_rows_without_values()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await PushAsync(await WorkbookKit.SheetAsync(ImportKit.CsvHeader, [[indicator, "460000", "2025-09", 1m, null]])));
        var summary = await ImportKit.AppliedAsync(await PushAsync(
            await WorkbookKit.SheetAsync("indicator,unit,period,value", [[indicator, "460000", "2025-09", null]]), "strategy=delete"));
        ImportKit.Counts(summary, received: 1, deleted: 1);
    }

    public static TheoryData<string> BadWorkbooks => ["text", "ole", "zip", "header", "cell"];

    [Theory]
    [MemberData(nameof(BadWorkbooks))]
    public async Task A_workbook_that_cannot_be_read_is_400_and_writes_nothing(string kind)
    {
        var indicator = await _kit.IndicatorAsync();
        byte[] body = kind switch
        {
            "text" => "indicator,unit,period,value\r\n"u8.ToArray(),
            // An encrypted workbook is an OLE compound file, like an .xls.
            "ole" => [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, .. new byte[4088]],
            "zip" => ZipWithout(),
            "header" => await WorkbookKit.SheetAsync("code,unit,period,value", [[indicator, "460000", "2025-09", 1m]]),
            _ => WorkbookKit.Raw(WorkbookKit.HeaderRow + "<row r=\"2\">" + WorkbookKit.Text("A2", indicator) + WorkbookKit.Text("B2", "460000")
                + WorkbookKit.Text("C2", "2025-09") + "<c r=\"D2\"><v>1</v></c>" + WorkbookKit.Text("E2", Noise(10 << 20)) + "</row>"),
        };
        using var response = await PushAsync(body, "atomic=false");
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.True(problem["errors"]!["body"] is not null, problem.ToJsonString());
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task A_zip_bomb_is_413_before_it_is_read()
    {
        var indicator = await _kit.IndicatorAsync();
        var bomb = WorkbookKit.Raw(WorkbookKit.HeaderRow, extra: ("xl/media/padding.bin", new byte[64 << 20]));
        Assert.True(bomb.Length < 1 << 20);
        using var response = await PushAsync(bomb, "atomic=false");
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    /// <summary>A zip that is not a workbook (no xl/workbook.xml).</summary>
    static byte[] ZipWithout()
    {
        using var output = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(output, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        using (var part = zip.CreateEntry("readme.txt").Open()) part.Write("不是工作簿"u8);
        return output.ToArray();
    }

    /// <summary>Text of about <paramref name="bytes"/> UTF-8 bytes that does not compress (so it is a large cell, not a zip bomb).</summary>
    static string Noise(int bytes)
    {
        var random = new Random(15);
        return string.Create(bytes / 3, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = (char)r.Next(0x4E00, 0x9FA5);
        });
    }
}

/// <summary>The row cap holds for a workbook as for a CSV: a sheet that reaches row 1,048,576 is refused, nothing written.</summary>
public sealed class WorkbookCapTests(SmallImportCapsApp app) : IClassFixture<SmallImportCapsApp>
{
    readonly ImportKit _kit = new(app);

    [Fact]
    public async Task A_sheet_of_1048576_rows_is_413_and_writes_nothing()
    {
        var indicator = await _kit.IndicatorAsync();
        var xlsx = WorkbookKit.Raw(WorkbookKit.HeaderRow
            + "<row r=\"2\">" + WorkbookKit.Text("A2", indicator) + WorkbookKit.Text("B2", "460000") + WorkbookKit.Text("C2", "2025-09") + "<c r=\"D2\"><v>1</v></c></row>"
            + "<row r=\"1048576\">" + WorkbookKit.Text("A1048576", indicator) + "</row>");
        using var response = await _kit.PushBytesAsync(xlsx, WorkbookKit.MediaType, "atomic=false");
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }
}

/// <summary>GET /api/v1/data-values/template: the month's expected reports as a workbook that pushes back unedited once filled in.</summary>
public sealed class WorkbookTemplateTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    [Fact]
    public async Task The_filled_template_pushes_back_unedited()
    {
        await _kit.Seed.UnitsAsync();
        var indicator = Seed.Unique("TPL");
        using (var created = await _kit.Client.PostJsonAsync("/api/v1/indicators", new
        {
            code = indicator, name = "低保对象人数", measureUnit = "人", valueType = "count", frequency = "monthly", regionAggregation = "sum",
            timeAggregation = "stock", direction = "higher_is_better", reportingDay = 10, reporters = new[] { "460100", "460105" },
        })) await created.ShouldBeAsync(HttpStatusCode.Created);

        using var response = await _kit.Client.GetAsync($"/api/v1/data-values/template?indicators={indicator}&period=2025-09",
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(WorkbookKit.MediaType, response.Content.Headers.ContentType?.MediaType);
        var template = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);

        var sheet = WorkbookKit.Read(template);
        Assert.Equal(["指标代码", "单位代码", "期间", "数值", "备注", "指标名称", "计量单位", "单位名称", "报送截止日期"],
            sheet[0].Values.Select(v => (string)v!).ToArray());
        Assert.Equal([("460100", "2025-09", "低保对象人数", "人"), ("460105", "2025-09", "低保对象人数", "人")],
            sheet.Skip(1).Select(r => ((string)r["B"]!, (string)r["C"]!, (string)r["F"]!, (string)r["G"]!)).ToArray());
        Assert.Equal(new DateTime(2025, 10, 10), sheet[1]["I"]);
        Assert.Contains("dataValidation", System.Text.Encoding.UTF8.GetString(Unzip(template, "xl/worksheets/sheet1.xml")));

        // The clerk types the two values into column D and saves: the same workbook with numbers in D2 and D3.
        var filled = await WorkbookKit.BuildAsync(("2025-09", _ => sheet.Select((r, i) => WorkbookKit.Row(
            [.. r.Values.Select((v, c) => c == 3 && i > 0 ? (object)(i * 1000m) : v is DateTime d ? d.ToString("yyyy-MM-dd") : v)]))));
        var summary = await ImportKit.AppliedAsync(await _kit.PushBytesAsync(filled, WorkbookKit.MediaType));
        ImportKit.Counts(summary, received: 2, inserted: 2);
        Assert.Equal([1000m, 2000m], (await _kit.ValuesAsync(indicator)).Select(v => v.Value).ToArray());

        // Pushed exactly as downloaded (no value filled in): every row is named as missing its value.
        var empty = await ImportKit.RefusedAsync(await _kit.PushBytesAsync(template, WorkbookKit.MediaType, "dryRun=false"));
        Assert.Equal([(2, "value"), (3, "value")], ImportKit.Errors(empty));
    }

    static byte[] Unzip(byte[] zip, string part)
    {
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip));
        using var stream = archive.GetEntry(part)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
