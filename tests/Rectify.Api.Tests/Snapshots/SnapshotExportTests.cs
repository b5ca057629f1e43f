using System.Net;
using Rectify.Api.Tests.Exports;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>GET …/snapshots/{period}/export: the frozen measures as a spreadsheet-ready file.</summary>
public sealed class SnapshotExportTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);
    readonly ExportKit _export = new(app);

    [Fact]
    public async Task A_snapshot_is_one_row_per_measure_with_its_issue_in_utf8_with_bom()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-04", new
        {
            progress = new object[] { new { measureId = round.Measures[0], percent = 45m, note = "=HYPERLINK(\"x\"),含逗号，与\"引号\"" } },
        });

        var file = await _export.CsvAsync(round.Url("2025-04") + "/export");
        ExportKit.AssertCrlfLineEnds(file.Text);
        Assert.Equal(
            "round,period,revision,status,issueCode,issueTitle,category,issueState,measureId,measureCode,title,ownerUnit,state,progress,startDate,dueDate,completedOn,overdue,trafficLight,latestNote",
            string.Join(',', file.Header));
        Assert.Equal(3, file.Rows.Count);
        var first = file.Records.Single(r => r["measureId"] == round.Measures[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(round.Code, first["round"]);
        Assert.Equal("2025-04", first["period"]);
        Assert.Equal("draft", first["status"]);
        Assert.Equal("殡葬改革推行不力", first["issueTitle"]);
        Assert.Equal("殡葬管理", first["category"]);
        Assert.Equal("in_progress", first["state"]);
        Assert.Equal("45", first["progress"].TrimEnd('0').TrimEnd('.'));
        Assert.Equal("'=HYPERLINK(\"x\"),含逗号，与\"引号\"", first["latestNote"]); // neutralised, quotes and commas intact
        Assert.Equal(new[] { "1", "1", "2" }, file.Records.Select(r => r["issueCode"]));

        // The CSV and the JSON representations carry different tags.
        using var json = await _kit.Client.GetAsync(round.Url("2025-04"), TestContext.Current.CancellationToken);
        await json.ShouldBeAsync(HttpStatusCode.OK);
        Assert.NotEqual(json.ETag(), file.Response.ETag());
    }

    [Fact]
    public async Task The_csv_has_its_own_etag_and_answers_304_to_it()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-04", new { narrative = "4月进展" });
        var file = await _export.CsvAsync(round.Url("2025-04") + "/export");
        var tag = file.Response.ETag();
        Assert.Matches("^\"1\\.\\d+\\.csv\"$", tag);

        using var again = new HttpRequestMessage(HttpMethod.Get, round.Url("2025-04") + "/export");
        again.Headers.TryAddWithoutValidation("If-None-Match", tag);
        using var notModified = await _kit.Client.SendAsync(again, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(tag, notModified.ETag());

        // The JSON snapshot's tag does not validate the CSV, nor the other way round.
        using var json = new HttpRequestMessage(HttpMethod.Get, round.Url("2025-04"));
        json.Headers.TryAddWithoutValidation("If-None-Match", tag);
        using var jsonAnswer = await _kit.Client.SendAsync(json, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, jsonAnswer.StatusCode);
    }

    [Fact]
    public async Task The_json_snapshot_asked_for_csv_is_a_406_naming_the_export()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-04", new { narrative = "4月进展" });
        using var request = new HttpRequestMessage(HttpMethod.Get, round.Url("2025-04"));
        request.Headers.TryAddWithoutValidation("Accept", "text/csv");
        using var response = await _kit.Client.SendAsync(request, TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotAcceptable, "not-acceptable");
        Assert.Contains($"GET {round.Url("2025-04")}/export", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
