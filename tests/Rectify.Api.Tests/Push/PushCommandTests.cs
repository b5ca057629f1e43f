using System.Net;
using Rectify.Push;

namespace Rectify.Api.Tests.Push;

/// <summary>The whole program, from arguments to exit code, with a stub server in place of the network.</summary>
public sealed class PushCommandTests : IDisposable
{
    const string Secret = "rk_live_5f0c9a7e1d2b4c6a8e0f";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly PushFiles _files = new();

    public void Dispose() => _files.Dispose();

    static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(StubServer server, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var command = new PushCommand(server, stdout, stderr) { RetryBaseDelay = TimeSpan.FromMilliseconds(1) };
        var exit = await command.RunAsync(args, Ct);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    static StubServer Accepting() => new(StubServer.Summary(StubServer.ImportSummary()));

    [Fact]
    public async Task A_clean_push_exits_0_and_prints_its_summary()
    {
        var path = _files.Write("values-2025-10.csv", PushFiles.Csv);

        var (exit, stdout, stderr) = await RunAsync(Accepting(), "--url", "http://127.0.0.1:8080", path);

        Assert.Equal(0, exit);
        Assert.StartsWith("values-2025-10.csv: applied (upsert, atomic)", stdout);
        Assert.Contains("inserted           3", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task The_key_from_the_key_file_is_sent_as_a_bearer_token_and_never_printed()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var keyFile = _files.Write("push.key", $"  {Secret}\n");
        var server = new StubServer(
            StubServer.Status(HttpStatusCode.ServiceUnavailable),
            StubServer.Problem(HttpStatusCode.UnprocessableEntity,
                StubServer.ImportRejected(new { row = 3, field = "unit", message = "unknown unit" })),
            StubServer.Problem(HttpStatusCode.Unauthorized, new { type = "urn:rectify:problem:unauthorized", title = "Unauthorized", status = 401 }));

        var runs = new List<(int Exit, string Stdout, string Stderr)>();
        for (var i = 0; i < 2; i++)
            runs.Add(await RunAsync(server, "--url", "http://rectify.internal:8080", "--key-file", keyFile, path));

        Assert.Equal([1, 2], runs.Select(r => r.Exit));
        Assert.All(server.Requests, r => Assert.Equal($"Bearer {Secret}", r.Header("Authorization")));
        Assert.All(runs, r =>
        {
            Assert.DoesNotContain(Secret, r.Stdout);
            Assert.DoesNotContain(Secret, r.Stderr);
            Assert.DoesNotContain(Secret[..8], r.Stdout + r.Stderr);
        });
        // Plain http to another host: the operator is warned, still without the key.
        Assert.Contains("the API key is sent in clear text to rectify.internal", runs[0].Stderr);
    }

    [Fact]
    public async Task A_key_file_that_cannot_be_a_header_is_refused_without_showing_it()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var keyFile = _files.Write("push.key", $"{Secret}\n{Secret}\n");

        var (exit, stdout, stderr) = await RunAsync(Accepting(), "--url", "http://127.0.0.1:8080", "--key-file", keyFile, path);

        Assert.Equal(64, exit);
        Assert.Contains("cannot be sent in an HTTP header", stderr);
        Assert.DoesNotContain(Secret, stdout + stderr);
    }

    [Fact]
    public async Task A_refused_atomic_push_exits_1_and_prints_the_rows()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Problem(HttpStatusCode.UnprocessableEntity,
            StubServer.ImportRejected(new { row = 3, field = "unit", message = "unknown unit 469999" })));

        var (exit, stdout, stderr) = await RunAsync(server, "--url", "http://127.0.0.1:8080", path);

        Assert.Equal(1, exit);
        Assert.Contains("row 3 unit: unknown unit 469999", stdout);
        Assert.Contains("1 row(s) of values.csv rejected", stderr);
    }

    [Fact]
    public async Task A_failed_push_exits_2_with_the_reason_on_stderr()
    {
        var path = _files.Write("values.csv", PushFiles.Csv);
        var server = new StubServer(StubServer.Status(HttpStatusCode.BadGateway));

        var (exit, stdout, stderr) = await RunAsync(server, "--url", "http://127.0.0.1:8080", "--retries", "1", path);

        Assert.Equal(2, exit);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal("", stdout);
        Assert.Contains("attempt 1 of 2 failed (502 Bad Gateway)", stderr);
        Assert.Contains("push of values.csv failed: the server answered 502 Bad Gateway after 2 attempts", stderr);
    }

    [Fact]
    public async Task The_options_reach_the_request()
    {
        var path = _files.Write("values.export", """[{"indicator":"MZ.WARNINGS","unit":"460100","period":"2025-10","value":77000}]""");
        var server = new StubServer(StubServer.Summary(StubServer.ImportSummary(applied: false, dryRun: true)));

        var (exit, _, _) = await RunAsync(server, "--url=https://rectify.example.gov.cn", "--strategy", "create", "--non-atomic",
            "--dry-run", "--revision-reason", "月报更正", "--format", "json", "--timeout", "30", "--", path);

        Assert.Equal(0, exit);
        var sent = Assert.Single(server.Requests);
        Assert.Equal("application/json", sent.ContentType);
        Assert.Equal("https://rectify.example.gov.cn/api/v1/data-values/import?strategy=create&atomic=false&dryRun=true" +
            "&revisionReason=%E6%9C%88%E6%8A%A5%E6%9B%B4%E6%AD%A3",
            sent.Uri.AbsoluteUri);
    }

    [Theory]
    [InlineData("--url is required", "values.csv")]
    [InlineData("Unknown option --force", "--url", "http://127.0.0.1:8080", "--force", "values.csv")]
    [InlineData("--strategy must be upsert, create or delete", "--url", "http://127.0.0.1:8080", "--strategy", "merge", "values.csv")]
    [InlineData("--url must be an absolute http or https address", "--url", "ftp://127.0.0.1", "values.csv")]
    [InlineData("--url must not hold credentials", "--url", "http://user:pw@127.0.0.1", "values.csv")]
    [InlineData("Name the file to push", "--url", "http://127.0.0.1:8080")]
    [InlineData("Name exactly one file", "--url", "http://127.0.0.1:8080", "values.csv", "values.csv")]
    [InlineData("standard input is not supported", "--url", "http://127.0.0.1:8080", "-")]
    [InlineData("No such file", "--url", "http://127.0.0.1:8080", "missing.csv")]
    [InlineData("Cannot tell the format", "--url", "http://127.0.0.1:8080", "values.txt")]
    [InlineData("--timeout must be a whole number from 1 to 86400", "--url", "http://127.0.0.1:8080", "--timeout", "0", "values.csv")]
    [InlineData("--retries must be a whole number from 0 to 100", "--url", "http://127.0.0.1:8080", "--retries", "-1", "values.csv")]
    [InlineData("--url is given more than once", "--url", "http://a", "--url", "http://b", "values.csv")]
    [InlineData("--dry-run takes no value", "--url", "http://127.0.0.1:8080", "--dry-run=yes", "values.csv")]
    [InlineData("--key-file needs a value", "--url", "http://127.0.0.1:8080", "values.csv", "--key-file")]
    [InlineData("Cannot read the key file", "--url", "http://127.0.0.1:8080", "--key-file", "missing.key", "values.csv")]
    public async Task Bad_usage_exits_64_without_a_request(string message, params string[] args)
    {
        _files.Write("values.csv", PushFiles.Csv);
        _files.Write("values.txt", PushFiles.Csv);
        var folder = Path.GetDirectoryName(_files.Write("marker", ""))!;
        // Relative names in the cases are files of this test's folder.
        var resolved =
            args.Select(a => a.EndsWith(".csv", StringComparison.Ordinal) || a.EndsWith(".txt", StringComparison.Ordinal)
            || a.EndsWith(".key", StringComparison.Ordinal)
            ? Path.Combine(folder, a) : a).ToArray();
        var server = Accepting();

        var (exit, _, stderr) = await RunAsync(server, resolved);

        Assert.Equal(64, exit);
        Assert.Contains(message, stderr);
        Assert.Contains("--help", stderr);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Help_prints_the_usage_and_exits_0()
    {
        var (exit, stdout, _) = await RunAsync(Accepting(), "--help");

        Assert.Equal(0, exit);
        Assert.Contains("Usage: rectify-push --url URL", stdout);
        Assert.Contains("64 bad usage", stdout);
    }
}
