using System.Text;
using System.Text.Json.Nodes;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>The conformance check itself finds what it is there to find.</summary>
public sealed class DocumentedAnswersTests
{
    static readonly DocumentedAnswers Answers = new(JsonNode.Parse("""
        {
          "paths": {
            "/api/v1/things/{id}": {
              "get": { "responses": {
                "200": { "headers": { "ETag": { "required": true } },
                  "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Thing" } } } },
                "404": { "content": { "application/problem+json": { "schema": { "type": "object" } } } }
              } }
            },
            "/api/v1/things/special": { "get": { "responses": { "204": { "description": "nothing" } } } }
          },
          "components": { "schemas": {
            "Thing": { "type": "object", "required": ["id"], "properties": {
              "id": { "type": "integer", "format": "int64" },
              "day": { "type": "string", "format": "date" },
              "amount": { "type": "string", "format": "decimal" },
              "light": { "oneOf": [ { "type": "null" }, { "$ref": "#/components/schemas/Light" } ] } } },
            "Light": { "type": ["null", "string"], "enum": ["green", "red", null] }
          } }
        }
        """)!);

    static IReadOnlyList<string> Check(int status, string? mediaType, string body, string path = "/api/v1/things/7")
        => Answers.Check("GET", path, status, mediaType, Encoding.UTF8.GetBytes(body));

    [Fact]
    public void A_body_as_documented_passes() => Assert.Empty(Check(200, "application/json", """{"id":7,"light":"green"}"""));

    [Fact]
    public void An_undocumented_field_is_reported()
        => Assert.Contains(Check(200, "application/json", """{"id":7,"secret":"x"}"""), v => v.Contains("/secret", StringComparison.Ordinal));

    [Fact]
    public void A_wrong_type_and_a_missing_field_are_reported()
    {
        Assert.Contains(Check(200, "application/json", """{"id":"7"}"""), v => v.Contains("/id", StringComparison.Ordinal));
        Assert.Contains(Check(200, "application/json", """{"light":"red"}"""), v => v.Contains("required", StringComparison.Ordinal));
    }

    [Fact]
    public void A_null_matching_both_alternatives_of_a_one_of_is_reported()
        => Assert.Contains(Check(200, "application/json", """{"id":7,"light":null}"""), v => v.Contains("/light", StringComparison.Ordinal));

    [Fact]
    public void A_bad_format_is_reported_and_openapi_formats_are_not_asserted()
    {
        Assert.Empty(Check(200, "application/json", """{"id":7,"day":"2025-06-15","amount":"12.50"}"""));
        Assert.Contains(Check(200, "application/json", """{"id":7,"day":"15/06/2025"}"""), v => v.Contains("/day", StringComparison.Ordinal));
    }

    [Fact]
    public void An_undocumented_status_or_media_type_is_reported()
    {
        Assert.Contains(Check(409, "application/problem+json", "{}"), v => v.Contains("409 is not documented", StringComparison.Ordinal));
        Assert.Contains(Check(404, "text/html", "<p>"), v => v.Contains("text/html", StringComparison.Ordinal));
    }

    [Fact]
    public void A_required_header_missing_and_an_undocumented_one_sent_are_reported()
    {
        var body = """{"id":7}"""u8.ToArray();
        Assert.Empty(Answers.Check("GET", "/api/v1/things/7", 200, "application/json", body, ["ETag", "Content-Type"]));
        Assert.Contains(Answers.Check("GET", "/api/v1/things/7", 200, "application/json", body, ["Content-Type"]),
            v => v.Contains("lacks the ETag", StringComparison.Ordinal));
        Assert.Contains(Answers.Check("GET", "/api/v1/things/7", 200, "application/json", body, ["ETag", "Location"]),
            v => v.Contains("carries Location", StringComparison.Ordinal));
    }

    [Fact]
    public void The_most_literal_path_wins_and_unknown_paths_or_methods_are_not_judged()
    {
        Assert.Equal("/api/v1/things/special", Answers.Template("/api/v1/things/special"));
        Assert.Equal("/api/v1/things/{id}", Answers.Template("/api/v1/things/./7?x=1"));
        Assert.Empty(Check(200, "application/json", "{}", path: "/api/v1/other"));
        Assert.Empty(Answers.Check("DELETE", "/api/v1/things/7", 405, "application/problem+json", "{}"u8));
        Assert.Contains(Check(200, "application/json", "{}", path: "/api/v1/things/special"),
            v => v.Contains("200 is not documented", StringComparison.Ordinal));
    }
}
