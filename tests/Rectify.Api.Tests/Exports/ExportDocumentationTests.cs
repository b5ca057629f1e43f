using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Exports;

/// <summary>
/// The OpenAPI document gives every CSV export an operation of its own whose only success is text/csv, and leaves the
/// JSON operation's 200 application/json only: a generated client types the list as the page, not "page or text".
/// </summary>
public sealed class ExportDocumentationTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    [Theory]
    [InlineData("/api/v1/issues", "ExportIssues", IssueExportTests.Header)]
    [InlineData("/api/v1/measures", "ExportMeasures", MeasureExportTests.Header)]
    [InlineData("/api/v1/data-values", "ExportDataValues", "indicator,unit,period,value,comment,source,updatedAt")]
    [InlineData("/api/v1/rounds/{round}/snapshots/{period}", "ExportSnapshot", SnapshotHeader)]
    public async Task The_export_is_its_own_operation_answering_csv_only(string path, string operationId, string header)
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var export = document["paths"]![path + "/export"]!["get"]!;
        Assert.Equal(operationId, export["operationId"]!.GetValue<string>());
        var content = export["responses"]!["200"]!["content"]!.AsObject();
        Assert.Equal(["text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"], content.Select(c => c.Key));
        var csv = content["text/csv"]!;
        Assert.Equal("string", csv["schema"]!["type"]!.GetValue<string>());
        Assert.Contains("UTF-8 with BOM", csv["schema"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(header, csv["schema"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        var example = csv["example"]!.GetValue<string>();
        Assert.StartsWith("\uFEFF" + header + "\r\n", example, StringComparison.Ordinal);
        Assert.EndsWith("\r\n", example, StringComparison.Ordinal);
        Assert.Equal(2, ExportKit.Parse(example.TrimStart('\uFEFF')).Count); // the header and one row
        // An export is every selected row: no paging parameters.
        Assert.DoesNotContain(export["parameters"]?.AsArray() ?? [], p => p!["name"]!.GetValue<string>() is "limit" or "cursor");
    }

    [Theory]
    [InlineData("/api/v1/issues")]
    [InlineData("/api/v1/measures")]
    [InlineData("/api/v1/data-values")]
    [InlineData("/api/v1/rounds/{round}/snapshots/{period}")]
    public async Task The_json_operation_answers_json_only_and_points_to_the_export(string path)
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var operation = document["paths"]![path]!["get"]!;
        var content = operation["responses"]!["200"]!["content"]!.AsObject();
        Assert.Equal(["application/json"], content.Select(c => c.Key));
        Assert.NotNull(content["application/json"]!["schema"]!["$ref"]);
        Assert.NotNull(operation["responses"]!["406"]);
        Assert.Contains("/export", operation["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    const string SnapshotHeader = "round,period,revision,status,issueCode,issueTitle,category,issueState,measureId,measureCode,title,ownerUnit,state,progress,"
        + "startDate,dueDate,completedOn,overdue,trafficLight,latestNote";
}
