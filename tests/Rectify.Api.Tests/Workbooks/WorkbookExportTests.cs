using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Exports;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Workbooks;

/// <summary>
/// Every CSV export also answers xlsx (format=xlsx or an Accept that prefers it), read back here with MiniExcel: the
/// header row (field names, or Chinese with headers=zh), numbers as numbers and dates as dates.
/// </summary>
public sealed class WorkbookExportTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);
    readonly ExportKit _export = new(app);

    async Task<(string Round, long Issue, string Indicator)> ScenarioAsync()
    {
        await _kit.Seed.UnitsAsync();
        var round = await _kit.Seed.RoundAsync();
        var issue = (await _kit.Seed.IssueAsync(round, code: "1"))["id"]!.GetValue<long>();
        await _kit.Seed.MeasureAsync(issue, dueDate: "2025-06-10"); // overdue: a warning
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-05,8520,报告：18.6万人"])));
        using var snapshot = await _kit.Client.PutJsonAsync($"/api/v1/rounds/{round}/snapshots/2025-05", new { narrative = "月度进展" }, ifMatch: null);
        await snapshot.ShouldBeAsync(HttpStatusCode.OK);
        return (round, issue, indicator);
    }

    async Task<List<IDictionary<string, object?>>> XlsxAsync(string url, string accept = "*/*")
    {
        var (response, body) = await _export.GetAsync(url, accept);
        using (response)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
            Assert.Equal(WorkbookKit.MediaType, response.Content.Headers.ContentType?.MediaType);
            Assert.EndsWith(".xlsx", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        }
        return WorkbookKit.Read(body);
    }

    /// <summary>The sheet as header → value records.</summary>
    static List<Dictionary<string, object?>> Records(List<IDictionary<string, object?>> rows)
    {
        var header = rows[0].Where(c => c.Value is not null).ToDictionary(c => c.Key, c => (string)c.Value!);
        return rows.Skip(1).Select(r => header.ToDictionary(h => h.Value, h => r[h.Key])).ToList();
    }

    [Fact]
    public async Task Every_export_answers_xlsx_with_typed_cells_and_chinese_headers_on_request()
    {
        var (round, issue, indicator) = await ScenarioAsync();
        string[] exports =
        [
            $"/api/v1/issues/export?round={round}", $"/api/v1/measures/export?issue={issue}", $"/api/v1/data-values/export?indicator={indicator}",
            $"/api/v1/rounds/{round}/snapshots/2025-05/export", $"/api/v1/rounds/{round}/warnings/export",
        ];
        foreach (var url in exports)
        {
            var csv = await _export.CsvAsync(url);
            var english = await XlsxAsync(url + "&format=xlsx".Replace('&', url.Contains('?') ? '&' : '?'));
            Assert.Equal(csv.Header, english[0].Values.Where(v => v is not null).Select(v => (string)v!).ToArray());
            Assert.Equal(csv.Rows.Count, english.Count - 1);
            Assert.True(csv.Rows.Count > 0, url);

            var chinese = await XlsxAsync(url, $"{WorkbookKit.MediaType}, text/csv;q=0.5");
            var headers = chinese[0].Values.Where(v => v is not null).Select(v => (string)v!).ToArray();
            Assert.Equal(csv.Header.Count, headers.Length);
            Assert.Equal(csv.Header, headers); // Accept alone: the field names
            var zh = await XlsxAsync(url + (url.Contains('?') ? "&" : "?") + "format=xlsx&headers=zh");
            var zhHeaders = zh[0].Values.Where(v => v is not null).Select(v => (string)v!).ToArray();
            Assert.All(zhHeaders, h => Assert.True(h.Any(c => c >= '\u4E00'), $"{url}: the header {h} is not Chinese"));
        }

        var issues = Records(await XlsxAsync($"/api/v1/issues/export?round={round}&format=xlsx"));
        var row = Assert.Single(issues);
        Assert.Equal((double)issue, row["id"]);
        Assert.IsType<DateTime>(row["createdAt"]);
        var measures = Records(await XlsxAsync($"/api/v1/measures/export?issue={issue}&format=xlsx"));
        Assert.Equal(new DateTime(2025, 6, 10), Assert.Single(measures)["dueDate"]);
        Assert.Equal(true, measures[0]["overdue"]);
        var values = Records(await XlsxAsync($"/api/v1/data-values/export?indicator={indicator}&format=xlsx&headers=zh"));
        Assert.Equal((8520d, "2025-05", "报告：18.6万人"), (Assert.Single(values)["数值"], values[0]["期间"], values[0]["备注"]));
    }

    [Fact]
    public async Task An_unknown_format_or_header_language_is_400_before_anything_is_written()
    {
        using var response = await _kit.Client.GetAsync("/api/v1/issues/export?format=pdf&headers=fr", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["format"]);
        Assert.NotNull(problem["errors"]!["headers"]);
    }

    [Fact]
    public async Task A_pushed_export_lands_again_unedited()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-05,1.5,说明", $"{indicator},460100,2025-05,2,"])));
        var (response, body) = await _export.GetAsync($"/api/v1/data-values/export?indicator={indicator}&format=xlsx&headers=zh");
        response.Dispose();
        var summary = await ImportKit.AppliedAsync(await _kit.PushBytesAsync(body, WorkbookKit.MediaType));
        ImportKit.Counts(summary, received: 2, unchanged: 2);
    }
}
