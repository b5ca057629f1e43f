using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>The document's examples are the reference case's own figures, as the demo data holds them (unit of measure and scale included).</summary>
public sealed class ExampleDataTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    static JsonNode Example(JsonNode document, string path, string method = "get")
        => document["paths"]![path]![method]!["responses"]!.AsObject().First(r => r.Key.StartsWith('2'))
            .Value!["content"]!["application/json"]!["example"]!;

    [Fact]
    public async Task The_value_indicator_and_series_examples_are_the_demo_datas()
    {
        using var client = app.Client();
        var document = await client.GetJsonAsync("/openapi/v1.json");

        foreach (var value in Example(document, "/api/v1/data-values")["items"]!.AsArray())
        {
            var live = await client.GetJsonAsync(
                $"/api/v1/data-values?indicator={value!["indicator"]}&unit={value["unit"]}&from={value["period"]}&to={value["period"]}");
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

    /// <summary>
    /// Every JSON example of the document (requests and answers) names only what the demo data holds: its round, its units
    /// (GB/T 2260 regions and the department's divisions), its indicators, and its issues and measures by code with their
    /// titles and owners. A code invented for an example fails here.
    /// </summary>
    [Fact]
    public async Task Every_example_names_the_demo_datas_round_units_indicators_issues_and_measures()
    {
        using var client = app.Client();
        var document = await client.GetJsonAsync("/openapi/v1.json");
        static HashSet<string> Codes(JsonNode page, string field = "code")
            => page["items"]!.AsArray().Select(i => i![field]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var rounds = Codes(await client.GetJsonAsync("/api/v1/rounds?limit=200"));
        var units = Codes(await client.GetJsonAsync("/api/v1/units?limit=200"));
        var indicators = Codes(await client.GetJsonAsync("/api/v1/indicators?limit=200"));
        var issues = (await client.GetJsonAsync("/api/v1/issues?round=HN-8-6-6&limit=200"))["items"]!.AsArray()
            .ToDictionary(i => i!["code"]!.GetValue<string>(), i => i!, StringComparer.Ordinal);
        var measures = (await client.GetJsonAsync("/api/v1/measures?round=HN-8-6-6&limit=200"))["items"]!.AsArray()
            .ToDictionary(m => m!["code"]!.GetValue<string>(), m => m!, StringComparer.Ordinal);

        var wrong = new List<string>();
        void Check(bool ok, string where, string what)
        {
            if (!ok) wrong.Add($"{where}: {what}");
        }
        void Walk(JsonNode? node, string where)
        {
            if (node is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++) Walk(array[i], $"{where}[{i}]");
                return;
            }
            if (node is not JsonObject o) return;
            string? Text(string field) => o[field] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
            foreach (var field in new[] { "unit", "ownerUnit", "leadUnit", "inspectedUnit", "region", "parent" })
                if (Text(field) is { } unit) Check(units.Contains(unit), where, $"{field} {unit} is no unit of the demo data");
            foreach (var field in new[] { "units", "reporters" })
                foreach (var unit in (o[field] as JsonArray ?? []).Select(u => u!.GetValue<string>()))
                    Check(units.Contains(unit), where, $"{field} {unit} is no unit of the demo data");
            if (Text("round") is { } round) Check(rounds.Contains(round), where, $"round {round} is not the demo data's");
            if (Text("indicator") is { } indicator) Check(indicators.Contains(indicator), where, $"indicator {indicator} is not the demo data's");
            if (Text("issueCode") is { } issueCode) Check(issues.ContainsKey(issueCode), where, $"issue {issueCode} is not the demo data's");
            if (Text("code") is { } code && Text("title") is { } title)
            {
                // An issue (it has a lead unit) or a measure (it has an owner): code, title and unit as the demo data has them.
                var (kind, known, unitField) = o.ContainsKey("leadUnit") ? ("issue", issues, "leadUnit") : o.ContainsKey("ownerUnit")
                    ? ("measure", measures, "ownerUnit") : ("", null, "");
                if (known is not null)
                {
                    Check(known.TryGetValue(code, out var live), where, $"{kind} {code} is not the demo data's");
                    if (live is not null)
                    {
                        Check(live["title"]!.GetValue<string>() == title, where,
                            $"{kind} {code} is titled {live["title"]} in the demo data, not {title}");
                        Check(live[unitField]!.GetValue<string>() == Text(unitField), where,
                            $"{kind} {code}'s {unitField} is {live[unitField]} in the demo data");
                    }
                }
            }
            else if (Text("code") is { } indicatorCode && o.ContainsKey("measureUnit"))
                Check(indicators.Contains(indicatorCode), where, $"indicator {indicatorCode} is not the demo data's");
            foreach (var (key, value) in o) Walk(value, $"{where}.{key}");
        }

        var examples = 0;
        foreach (var (path, operations) in document["paths"]!.AsObject())
            foreach (var (method, operation) in operations!.AsObject())
            {
                var bodies = new[] { ("request", operation!["requestBody"]) }
                    .Concat((operation["responses"]?.AsObject() ?? []).Select(r => (r.Key, r.Value)));
                foreach (var (what, body) in bodies)
                    if (body?["content"]?["application/json"]?["example"] is { } example)
                    {
                        examples++;
                        Walk(example, $"{method} {path} {what}");
                    }
            }
        Assert.True(examples > 40, $"Only {examples} JSON examples found.");
        Assert.True(wrong.Count == 0, "Examples not taken from the demo data:\n" + string.Join("\n", wrong));
    }
}
