using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>
/// A query parameter the service cannot answer without is documented as required (a generated client makes it a
/// mandatory argument), and leaving it out, or sending it blank, is a 400 naming it as the caller does.
/// </summary>
public sealed class RequiredParameterTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    public static TheoryData<string, string, string> Required => new()
    {
        { "/api/v1/reporting/completeness", "period", "/api/v1/reporting/completeness" },
        { "/api/v1/rounds/{round}/report", "period", "/api/v1/rounds/HN-8-6-6/report?format=md" },
        { "/api/v1/indicators/{code}/series", "unit", "/api/v1/indicators/LOTTERY-SALES/series?from=2025-01" },
        { "/api/v1/rounds/{round}/snapshots/{period}/diff", "against", "/api/v1/rounds/HN-8-6-6/snapshots/2025-10/diff" },
    };

    [Theory]
    [MemberData(nameof(Required))]
    public async Task The_document_marks_the_parameter_required(string path, string parameter, string _)
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var documented = document["paths"]![path]!["get"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == parameter)!;
        Assert.Equal("query", documented["in"]!.GetValue<string>());
        Assert.True(documented["required"]?.GetValue<bool>() == true, $"{parameter} of GET {path} is documented as optional.");
    }

    [Theory]
    [MemberData(nameof(Required))]
    public async Task Leaving_it_out_or_blank_is_a_400_naming_it(string _, string parameter, string url)
    {
        using var client = app.Client();
        foreach (var request in new[] { url, url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + parameter + "=%20" })
        {
            using var response = await client.GetAsync(request, TestContext.Current.CancellationToken);
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
            var messages = problem["errors"]![parameter]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
            Assert.Contains(messages, m => m.StartsWith("Name the", StringComparison.Ordinal));
            Assert.Equal([parameter], problem["errors"]!.AsObject().Select(e => e.Key));
        }
    }

    /// <summary>No other operation takes a query parameter the document leaves optional but the service refuses to go without.</summary>
    [Fact]
    public async Task Only_these_query_parameters_are_documented_as_required()
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var required = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().SelectMany(o => (o.Value!["parameters"] as JsonArray ?? [])
                .Where(x => x!["in"]!.GetValue<string>() == "query" && x["required"]?.GetValue<bool>() == true)
                .Select(x => $"{p.Key} {x!["name"]!.GetValue<string>()}")))
            .Order(StringComparer.Ordinal);
        Assert.Equal(Required.Select(r => $"{r.Data.Item1} {r.Data.Item2}").Order(StringComparer.Ordinal), required);
    }
}
