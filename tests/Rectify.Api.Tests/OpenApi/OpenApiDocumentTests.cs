using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>The OpenAPI document and Swagger UI are a product for integrators: complete, exact, and the committed copy is the live one.</summary>
public sealed class OpenApiDocumentTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    const string UpdateVariable = "RECTIFY_UPDATE_OPENAPI";

    readonly HttpClient _client = app.Client();

    static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    async Task<JsonNode> DocumentAsync()
    {
        using var response = await _client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.ShouldBeAsync(HttpStatusCode.OK);
    }

    static IEnumerable<(string Path, string Method, JsonNode Operation)> Operations(JsonNode document)
        => document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Where(op => Methods.Contains(op.Key))
            .Select(op => (path.Key, op.Key, op.Value!)));

    static bool HasExample(JsonNode? content)
        => content is JsonObject media && media.Any(m => m.Value?["example"] is not null || m.Value?["examples"] is JsonObject { Count: > 0 }
            // A binary body (an xlsx workbook) has no example to show in the document; its schema describes it.
            || m.Value?["schema"]?["format"]?.GetValue<string>() == "binary");


    [Fact]
    public async Task The_committed_openapi_document_equals_the_live_one()
    {
        var live = Normalize(await _client.GetJsonAsync("/openapi/v1.json"));
        var path = Path.Combine(RepositoryRoot(), "openapi", "v1.json");

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(path, live, TestContext.Current.CancellationToken);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing. Regenerate it: {UpdateVariable}=1 dotnet test --filter OpenApiDocumentTests");
        var committed = Normalize(JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!);
        Assert.True(committed == live,
            $"openapi/v1.json differs from the document the service serves. Regenerate it: {UpdateVariable}=1 dotnet test --filter " +
                $"OpenApiDocumentTests, then review and commit the change.");
    }

    [Fact]
    public async Task Swagger_ui_is_served()
    {
        using var response = await _client.GetAsync("/swagger/index.html", TestContext.Current.CancellationToken);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("swagger-ui", html);
        Assert.Contains("<title>Rectify API</title>", html);
    }

    [Fact]
    public async Task The_document_is_openapi_3_with_the_api_paths()
    {
        var document = await DocumentAsync();
        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>());
        Assert.Equal("Rectify API", document["info"]!["title"]!.GetValue<string>());
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        foreach (var path in new[]
                 {
                     "/api/v1/units", "/api/v1/units/{code}", "/api/v1/rounds", "/api/v1/rounds/{code}", "/api/v1/issues", "/api/v1/issues/{id}",
                     "/api/v1/issues/{id}/review", "/api/v1/issues/{id}/sign-offs", "/api/v1/issues/{id}/sign-offs/{signOffId}/decision", "/api/v1/measures", "/api/v1/measures/{id}",
                     "/api/v1/measures/{id}/progress", "/api/v1/measures/{id}/evidence", "/api/v1/journal",
                 })
        {
            Assert.Contains(path, paths);
        }
        Assert.DoesNotContain(paths, p => p.StartsWith("/openapi", StringComparison.Ordinal) || p.StartsWith("/swagger", StringComparison.Ordinal));
        Assert.NotNull(document["paths"]!["/api/v1/issues"]!["post"]);
        Assert.NotNull(document["paths"]!["/api/v1/issues/{id}"]!["put"]);
    }

    [Fact]
    public async Task Every_operation_has_a_summary_a_description_errors_and_an_example()
    {
        var document = await DocumentAsync();
        var operations = Operations(document).ToList();
        Assert.True(operations.Count >= 17, $"only {operations.Count} operations");
        var missing = new List<string>();
        foreach (var (path, method, operation) in operations)
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            if (string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>())) missing.Add(name + ": summary");
            if (string.IsNullOrWhiteSpace(operation["description"]?.GetValue<string>())) missing.Add(name + ": description");
            if (string.IsNullOrWhiteSpace(operation["operationId"]?.GetValue<string>())) missing.Add(name + ": operationId");
            var success = operation["responses"]!.AsObject().Where(r => r.Key.StartsWith('2')).Select(r => r.Value?["content"]);
            // An operation whose success has no body (204) and that takes none has nothing to show in an example.
            var hasBodies = operation["requestBody"] is not null || success.Any(c => c is JsonObject { Count: > 0 });
            if (hasBodies && !HasExample(operation["requestBody"]?["content"]) && !success.Any(HasExample)) missing.Add(name + ": example");
            if (operation["requestBody"] is { } body && !HasExample(body["content"])) missing.Add(name + ": request example");
            if (path.StartsWith("/api/", StringComparison.Ordinal)
                && !operation["responses"]!.AsObject().Any(r => r.Key.StartsWith('4'))) missing.Add(name + ": error responses");
        }
        Assert.Empty(missing);
    }

    [Fact]
    public async Task Numbers_are_typed_as_numbers_only()
    {
        var document = await DocumentAsync();
        var loose = new List<string>();
        void Walk(JsonNode? node, string where)
        {
            switch (node)
            {
                case JsonObject obj:
                    if (obj["type"] is JsonArray types)
                    {
                        var names = types.Select(t => t!.GetValue<string>()).ToList();
                        if (names.Contains("string") && (names.Contains("integer") || names.Contains("number"))) loose.Add(where);
                    }
                    foreach (var (key, value) in obj) Walk(value, where + "/" + key);
                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++) Walk(array[i], where + "/" + i);
                    break;
            }
        }
        Walk(document, "#");
        Assert.Empty(loose);

        var percent = document["components"]!["schemas"]!["AddProgressRequest"]!["properties"]!["percent"]!;
        Assert.Equal("number", percent["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task States_and_kinds_are_documented_with_their_wire_names()
    {
        var document = await DocumentAsync();
        var schemas = document["components"]!["schemas"]!;
        Assert.Equal(["planned", "inspecting", "rectifying", "consolidating", "closed"],
            schemas["RoundState"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["open", "in_progress", "pending_review", "closed", "long_term"],
            schemas["IssueState"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Contains("county", schemas["UnitKind"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));

        var kind = document["paths"]!["/api/v1/units"]!["get"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "kind")!;
        Assert.Equal("#/components/schemas/UnitKind", kind["schema"]!["$ref"]!.GetValue<string>());
    }

    static string Normalize(JsonNode document)
        => document.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            // A file for people to read and diff, never embedded in HTML: keep Chinese, quotes and backticks as they are.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n";

    // From this source file, not the binaries: they may be built outside the checkout (--artifacts-path).
    static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        var dir = new DirectoryInfo(Path.GetDirectoryName(sourceFile)!);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rectify.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Rectify.sln not found above the test sources.");
    }
}
