using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>
/// The push as a generated client sees it: the JSON body is an array of values or an object with values, and every
/// 422 has one schema whose summary is there to read, without telling problem kinds apart.
/// </summary>
public sealed class ImportContractTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    [Fact]
    public async Task The_422_of_the_push_is_one_schema_with_the_summary_required()
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var refused = document["paths"]!["/api/v1/data-values/import"]!["post"]!["responses"]!["422"]!["content"]!.AsObject();
        var schema = Assert.Single(refused).Value!["schema"]!;
        Assert.Equal("#/components/schemas/ImportRejectedProblem", schema["$ref"]!.GetValue<string>());

        var problem = document["components"]!["schemas"]!["ImportRejectedProblem"]!;
        Assert.Contains("summary", problem["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        // The summary itself, not "null or a summary": a generated client reads problem.summary.errors directly.
        Assert.Equal("#/components/schemas/ImportSummary", problem["properties"]!["summary"]!["$ref"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_json_body_is_an_array_of_values_or_an_object_with_values()
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var body = document["paths"]!["/api/v1/data-values/import"]!["post"]!["requestBody"]!["content"]!["application/json"]!;
        var oneOf = body["schema"]!["oneOf"]!.AsArray();
        Assert.Equal(2, oneOf.Count);
        Assert.Equal("array", oneOf[0]!["type"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/DataValueInput", oneOf[0]!["items"]!["$ref"]!.GetValue<string>());
        Assert.Equal("object", oneOf[1]!["type"]!.GetValue<string>());
        Assert.Equal(["values"], oneOf[1]!["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("#/components/schemas/DataValueInput", oneOf[1]!["properties"]!["values"]!["items"]!["$ref"]!.GetValue<string>());
        Assert.False(oneOf[1]!["additionalProperties"]!.GetValue<bool>());
    }
}
