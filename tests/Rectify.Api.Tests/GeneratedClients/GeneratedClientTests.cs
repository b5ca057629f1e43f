using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.GeneratedClients;

/// <summary>
/// The committed OpenAPI document as integrators use it: clients generated from it by openapi-typescript, NSwag and Kiota,
/// unedited, compiled strictly (tsc --strict; C# with nullable on and warnings as errors) and run against the service
/// as a real process behind Kestrel on the reference case. Each program exits non-zero on any failed call, failed
/// deserialisation or unexpected answer, which fails its test with the tools' output. Needs node, npm and the
/// dotnet SDK, and the npm and NuGet registries (for npm ci and dotnet tool restore); a missing tool fails the test.
/// </summary>
public sealed class GeneratedClientTests(RunningService service) : IClassFixture<RunningService>
{
    [Fact(Timeout = 600_000)]
    public async Task A_TypeScript_client_generated_with_openapi_typescript_compiles_strictly_and_drives_the_service()
    {
        using var stage = ClientStage.CopyOf("typescript");
        await stage.RunAsync("npm", ["ci", "--no-audit", "--no-fund"]);
        await stage.RunAsync("npx", ["--no-install", "openapi-typescript", ClientStage.Document, "-o", "generated/rectify.d.ts"]);
        await stage.RunAsync("npx", ["--no-install", "tsc", "-p", ".", "--strict", "--noEmit"]);
        await stage.RunAsync("npx", ["--no-install", "tsc", "-p", "."]);
        var output = await stage.RunAsync("node", ["out/program.js"], service.Environment("ts"));
        Assert.Contains("TypeScript client:", output);
    }

    [Fact(Timeout = 600_000)]
    public async Task A_CSharp_client_generated_with_NSwag_for_System_Text_Json_compiles_and_drives_the_service()
    {
        using var stage = ClientStage.CopyOf("csharp");
        await stage.RunAsync("dotnet", ["tool", "restore"], workingDirectory: ClientStage.ClientsRoot);
        await stage.RunAsync("dotnet", ["tool", "run", "nswag", "openapi2csclient", $"/input:{ClientStage.Document}",
            $"/output:{Path.Combine(stage.Folder, "Generated", "RectifyClient.cs")}", .. NSwagSettings], workingDirectory: ClientStage.ClientsRoot);
        await stage.RunAsync("dotnet", ["build", "-c", "Release", "-nologo", "-v", "q"]);
        var output = await stage.RunAsync("dotnet", ["run", "-c", "Release", "--no-build"], service.Environment("cs"));
        Assert.Contains("NSwag client:", output);
    }

    [Fact(Timeout = 600_000)]
    public async Task A_CSharp_client_generated_with_Kiota_compiles_and_drives_the_service()
    {
        using var stage = ClientStage.CopyOf("kiota");
        await stage.RunAsync("dotnet", ["tool", "restore"], workingDirectory: ClientStage.ClientsRoot);
        await stage.RunAsync("dotnet", ["tool", "run", "kiota", "generate", "--language", "CSharp", "--openapi", ClientStage.Document,
            "--output", Path.Combine(stage.Folder, "Generated"), "--namespace-name", "Rectify.Clients.Kiota.Generated",
            "--class-name", "RectifyKiotaClient", "--exclude-backward-compatible", "--log-level", "Warning"],
                workingDirectory: ClientStage.ClientsRoot);
        await stage.RunAsync("dotnet", ["build", "-c", "Release", "-nologo", "-v", "q"]);
        var output = await stage.RunAsync("dotnet", ["run", "-c", "Release", "--no-build"], service.Environment("kiota"));
        Assert.Contains("Kiota client:", output);
    }

    /// <summary>The settings the README gives integrators for NSwag with System.Text.Json.</summary>
    public static readonly string[] NSwagSettings =
    [
        "/namespace:Rectify.Clients.Generated",
        "/className:RectifyClient",
        "/JsonLibrary:SystemTextJson",
        // 9.0 and later: enum members carry [JsonStringEnumMemberName("in_progress")], which the converter below honours.
        "/JsonLibraryVersion:10.0",
        // Enums everywhere (also inside lists such as allowedTransitions) as their wire names, not numbers.
        "/JsonConverters:System.Text.Json.Serialization.JsonStringEnumConverter",
        "/GenerateNullableReferenceTypes:true",
        "/GenerateOptionalPropertiesAsNullable:true",
        "/GenerateOptionalParameters:true",
        "/DateType:System.DateOnly",
        "/DateTimeType:System.DateTimeOffset",
        "/InjectHttpClient:true",
        "/DisposeHttpClient:false",
    ];
}

/// <summary>The service as a process on a fresh database with the reference case, and a key with every scope.</summary>
public sealed class RunningService(TestCluster cluster) : IAsyncLifetime
{
    ApiProcess? _api;
    string _key = "";

    public async ValueTask InitializeAsync()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        _key = await TestKeys.CreateAsync(connectionString, CancellationToken.None);
        _api = await ApiProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__Rectify"] = connectionString,
            ["Database__LoadDemoData"] = "true",
        }, CancellationToken.None);
    }

    /// <summary>What a client program reads: the base address, the key, and a suffix that keeps its codes apart.</summary>
    public IReadOnlyDictionary<string, string> Environment(string run) => new Dictionary<string, string>
    {
        ["RECTIFY_URL"] = _api!.BaseAddress.ToString().TrimEnd('/'),
        ["RECTIFY_KEY"] = _key,
        ["RECTIFY_RUN"] = $"{run}-{Guid.NewGuid().ToString("N")[..8]}",
    };

    public async ValueTask DisposeAsync()
    {
        if (_api is not null) await _api.DisposeAsync();
    }
}
