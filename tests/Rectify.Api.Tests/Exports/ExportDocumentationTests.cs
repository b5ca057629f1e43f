using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Exports;

/// <summary>The OpenAPI document tells integrators that the lists answer CSV too, with the header they will get.</summary>
public sealed class ExportDocumentationTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    [Theory]
    [InlineData("/api/v1/issues", IssueExportTests.Header)]
    [InlineData("/api/v1/measures", MeasureExportTests.Header)]
    [InlineData("/api/v1/data-values", "indicator,unit,period,value,comment,source,updatedAt")]
    public async Task The_list_documents_a_csv_answer_beside_the_json_page(string path, string header)
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var content = document["paths"]![path]!["get"]!["responses"]!["200"]!["content"]!.AsObject();

        Assert.NotNull(content["application/json"]!["schema"]!["$ref"]);
        Assert.NotNull(content["application/json"]!["example"]!["items"]);
        var csv = content["text/csv"]!;
        Assert.Equal("string", csv["schema"]!["type"]!.GetValue<string>());
        Assert.Contains("UTF-8 with BOM", csv["schema"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        var example = csv["example"]!.GetValue<string>();
        Assert.StartsWith("\uFEFF" + header + "\r\n", example, StringComparison.Ordinal);
        Assert.Contains(header, csv["schema"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.EndsWith("\r\n", example, StringComparison.Ordinal);
        Assert.Equal(2, ExportKit.Parse(example.TrimStart('\uFEFF')).Count); // the header and one row
        Assert.Contains("text/csv", document["paths"]![path]!["get"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
