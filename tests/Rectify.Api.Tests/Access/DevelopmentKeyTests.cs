using System.Net;
using System.Net.Http.Headers;
using Npgsql;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Access;

/// <summary>
/// The README's run command on a fresh checkout: the service starts its embedded cluster and, on the first start
/// only, creates the development admin client, saves its key to a file only the owner may read, and prints it once.
/// </summary>
public sealed class DevelopmentKeyTests : IAsyncLifetime
{
    readonly string _root = Path.Combine(Path.GetTempPath(), $"rectify-tests-{Environment.ProcessId}-devkey-{Guid.NewGuid():N}"[..46]);
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    const string Announcement = "Development admin key";

    Dictionary<string, string> Settings() => new()
    {
        // No connection string: the embedded default, in a folder of this test's own (the key file sits under the content root).
        ["ASPNETCORE_CONTENTROOT"] = _root,
        ["Database__EmbeddedRoot"] = Path.Combine(_root, "postgres"),
        ["Database__LoadDemoData"] = "false",
        ["Logging__LogLevel__Default"] = "Information",
    };

    string KeyFile => Path.Combine(_root, ".local", "dev-admin.key");

    static async Task<HttpStatusCode> RoundsAsync(ApiProcess api, string? key)
    {
        using var client = api.Client();
        client.DefaultRequestHeaders.Authorization = key is null ? null : new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.GetAsync("/api/v1/rounds", Ct);
        return response.StatusCode;
    }

    static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"Waited 60 s for {what}.");
            await Task.Delay(200, Ct);
        }
    }

    [Fact]
    public async Task The_first_start_creates_prints_and_saves_one_working_key_and_later_starts_keep_it()
    {
        Directory.CreateDirectory(_root);
        string key;
        await using (var first = await ApiProcess.StartAsync(Settings(), Ct))
        {
            await WaitForAsync(() => File.Exists(KeyFile) && first.Output.Contains(Announcement, StringComparison.Ordinal), "the development key");
            key = (await File.ReadAllTextAsync(KeyFile, Ct)).Trim();
            Assert.Matches("^rfy_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$", key);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
            var lines = first.Output.Split('\n');
            Assert.Single(lines, line => line.Contains(Announcement, StringComparison.Ordinal));
            Assert.Single(lines, line => line.Trim() == key); // printed once, on a line of its own, and nowhere else (not in the log)

            Assert.Equal(HttpStatusCode.OK, await RoundsAsync(first, key));
            Assert.Equal(HttpStatusCode.Unauthorized, await RoundsAsync(first, null));
            await first.TerminateAsync(Ct);
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(60))); // stops its cluster, keeps the data
        }

        await using var second = await ApiProcess.StartAsync(Settings(), Ct);
        Assert.Equal(HttpStatusCode.OK, await RoundsAsync(second, key));
        Assert.DoesNotContain(Announcement, second.Output, StringComparison.Ordinal);
        Assert.Equal(key, (await File.ReadAllTextAsync(KeyFile, Ct)).Trim());
        await second.TerminateAsync(Ct);
        await second.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await TestCluster.RemoveClusterAsync(Path.Combine(_root, "postgres"));
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
