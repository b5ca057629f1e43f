using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.OpenApi;

public sealed class OpenApiDocumentTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    const string UpdateVariable = "RECTIFY_UPDATE_OPENAPI";

    [Fact]
    public async Task The_committed_openapi_document_equals_the_live_one()
    {
        var live = Normalize(await app.Client().GetJsonAsync("/openapi/v1.json"));
        var path = Path.Combine(RepositoryRoot(), "openapi", "v1.json");

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(path, live, TestContext.Current.CancellationToken);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing. Regenerate it: {UpdateVariable}=1 dotnet test --filter OpenApiDocumentTests");
        var committed = Normalize(JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!);
        Assert.True(committed == live,
            $"openapi/v1.json differs from the document the service serves. Regenerate it: {UpdateVariable}=1 dotnet test --filter OpenApiDocumentTests, then review and commit the change.");
    }

    [Fact]
    public async Task Every_operation_is_documented_with_a_summary_a_description_errors_and_an_example()
    {
        var document = await app.Client().GetJsonAsync("/openapi/v1.json");
        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => (Name: $"{op.Key.ToUpperInvariant()} {path.Key}", Operation: op.Value!)))
            .ToList();
        Assert.NotEmpty(operations);
        foreach (var (name, operation) in operations)
        {
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(operation["description"]?.GetValue<string>()), $"{name} has no description");
            Assert.False(string.IsNullOrWhiteSpace(operation["operationId"]?.GetValue<string>()), $"{name} has no operationId");
            var responses = operation["responses"]!.AsObject();
            Assert.Contains(responses, r => r.Key.StartsWith('4'));
            var text = operation.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.All) });
            Assert.True(text.Contains("\"example\"", StringComparison.Ordinal), $"{name} has no example");
        }
    }

    [Fact]
    public async Task Numbers_are_typed_strictly_in_the_document()
    {
        // Web JSON defaults would read numbers from strings and type every number as "number or string".
        var text = (await app.Client().GetJsonAsync("/openapi/v1.json")).ToJsonString();
        Assert.DoesNotContain("\"pattern\":\"^-?(?:0|[1-9]\\\\d*)$\"", text);
        Assert.DoesNotContain("[\"integer\",\"string\"]", text);
        Assert.DoesNotContain("[\"number\",\"string\"]", text);
    }

    [Fact]
    public async Task Swagger_ui_is_served()
    {
        using var response = await app.Client().GetAsync("/swagger/index.html", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.OrdinalIgnoreCase);
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
