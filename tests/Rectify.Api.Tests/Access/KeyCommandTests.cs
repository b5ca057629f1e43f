using System.Diagnostics;
using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>
/// <c>dotnet Rectify.Api.dll keys create …</c>: the first admin key without the API, printed once; the key works; a
/// second client of the same name and bad usage fail with their exit codes.
/// </summary>
public sealed class KeyCommandTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        var dll = ApiProcess.LocateApi();
        start.WorkingDirectory = Path.GetDirectoryName(dll)!;
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Rectify"] = app.ConnectionString;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var (exitCode, output, errors) = await Programs.RunToEndAsync(start, TimeSpan.FromSeconds(60), Ct);
        return (exitCode, output + errors);
    }

    [Fact(Timeout = 120_000)]
    public async Task Keys_create_prints_a_working_key_once_and_refuses_a_duplicate_or_bad_usage()
    {
        var (exitCode, output) = await RunAsync("keys", "create", "--name", "ops-admin", "--scopes", "admin,read", "--contact", "运维值班");
        Assert.True(exitCode == 0, output);
        var key = output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("rfy_", StringComparison.Ordinal));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM clients WHERE name = 'ops-admin' AND scopes = ARRAY['admin', 'read']"));

        using var clients = await app.ClientWith(key).GetAsync("/api/v1/clients", Ct);
        Assert.Equal(HttpStatusCode.OK, clients.StatusCode);
        Assert.DoesNotContain(key, await clients.Content.ReadAsStringAsync(Ct));

        var (duplicate, duplicateOutput) = await RunAsync("keys", "create", "--name", "ops-admin", "--scopes", "admin");
        Assert.Equal(1, duplicate);
        Assert.DoesNotContain("rfy_", duplicateOutput);

        var (usage, _) = await RunAsync("keys", "create", "--name", "no-scopes");
        Assert.Equal(64, usage);
    }
}
