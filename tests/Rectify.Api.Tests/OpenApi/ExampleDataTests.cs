using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>The document's examples are the reference case's own figures, as the demo data holds them (unit of measure and scale included).</summary>
public sealed class ExampleDataTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    static JsonNode Example(JsonNode document, string path, string method = "get")
        => document["paths"]![path]![method]!["responses"]!.AsObject().First(r => r.Key.StartsWith('2')).Value!["content"]!["application/json"]!["example"]!;

    [Fact]
    public async Task The_value_indicator_and_series_examples_are_the_demo_datas()
    {
        using var client = app.Client();
        var document = await client.GetJsonAsync("/openapi/v1.json");

        foreach (var value in Example(document, "/api/v1/data-values")["items"]!.AsArray())
        {
            var live = await client.GetJsonAsync($"/api/v1/data-values?indicator={value!["indicator"]}&unit={value["unit"]}&from={value["period"]}&to={value["period"]}");
            Assert.Equal(value["value"]!.GetValue<decimal>(), Assert.Single(live["items"]!.AsArray())!["value"]!.GetValue<decimal>());
        }

        var indicator = Example(document, "/api/v1/indicators/{code}");
        var liveIndicator = await client.GetJsonAsync($"/api/v1/indicators/{indicator["code"]}");
        foreach (var field in new[] { "name", "measureUnit", "valueType", "frequency" })
            Assert.Equal(liveIndicator[field]!.GetValue<string>(), indicator[field]!.GetValue<string>());

        var series = Example(document, "/api/v1/indicators/{code}/series");
        var points = series["points"]!.AsArray();
        var liveSeries = await client.GetJsonAsync(
            $"/api/v1/indicators/{series["indicator"]}/series?unit={series["unit"]}&from={points[0]!["period"]}&to={points[^1]!["period"]}");
        Assert.Equal(series["measureUnit"]!.GetValue<string>(), liveSeries["measureUnit"]!.GetValue<string>());
        foreach (var (example, live) in points.Zip(liveSeries["points"]!.AsArray()))
        {
            foreach (var field in new[] { "value", "change", "yearOnYear", "yearOnYearPercent" })
                Assert.Equal(live![field]!.GetValue<decimal>(), example![field]!.GetValue<decimal>());
        }
    }
}
