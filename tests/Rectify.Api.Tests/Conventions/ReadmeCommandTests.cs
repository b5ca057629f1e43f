using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Conventions;

/// <summary>
/// The README's commands as a reader runs them: every <c>curl</c> line, with the reader's key and the service's port,
/// against the service as a real process behind Kestrel with the demo data loaded. And what a client that sends raw
/// UTF-8 in the request target (curl does, for a URL typed with Chinese in it) meets there — which HttpClient, which
/// percent-encodes, cannot show.
/// </summary>
public sealed class ReadmeCommandTests(TestCluster cluster)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<ApiProcess> StartWithDemoDataAsync()
    {
        var connectionString = await cluster.CreateDatabaseAsync();
        var api = await ApiProcess.StartAsync(ApiProcessSettings(connectionString), Ct);
        api.ApiKey = await TestKeys.CreateAsync(connectionString, Ct);
        return api;
    }

    static Dictionary<string, string> ApiProcessSettings(string connectionString) => new()
    {
        ["ConnectionStrings__Rectify"] = connectionString,
        ["Database__LoadDemoData"] = "true",
    };

    /// <summary>The <c>curl</c> lines of the README's shell blocks.</summary>
    static IReadOnlyList<string> CurlCommands()
    {
        var readme =
            Path.Combine(ApiProcess.RepositoryRoot() ?? throw new InvalidOperationException("The repository is not above the tests."), "README.md");
        var commands = new List<string>();
        var inBlock = false;
        foreach (var line in File.ReadLines(readme))
        {
            if (line.StartsWith("```", StringComparison.Ordinal)) inBlock = !inBlock;
            else if (inBlock && line.StartsWith("curl ", StringComparison.Ordinal)) commands.Add(line);
        }
        return commands;
    }

    [Fact(Timeout = 120_000)]
    public async Task Every_curl_command_in_the_readme_answers_2xx_with_a_body()
    {
        var commands = CurlCommands();
        Assert.True(commands.Count >= 5, $"Expected the README's curl examples, found {commands.Count}.");
        await using var api = await StartWithDemoDataAsync();
        var folder = Directory.CreateTempSubdirectory("rectify-readme-").FullName;
        try
        {
            foreach (var command in commands)
            {
                // As the reader runs it: KEY set by the README's line above, the service on its port instead of 8080.
                var line = command.Replace("127.0.0.1:8080", $"127.0.0.1:{api.Port}", StringComparison.Ordinal)
                    + " -w '\\n%{http_code}' --max-time 30";
                var (exitCode, output) = await RunAsync(line, folder, api.ApiKey!);
                Assert.True(exitCode == 0, $"curl exited with {exitCode}: {command}\n{output}");
                var status = output[(output.LastIndexOf('\n') + 1)..].Trim();
                var body = output[..Math.Max(0, output.LastIndexOf('\n'))];
                if (OutputFile(command) is { } file) body = await File.ReadAllTextAsync(Path.Combine(folder, file), Ct);
                Assert.True(status.StartsWith('2'), $"{command}\nanswered {status}: {body}");
                Assert.False(string.IsNullOrWhiteSpace(body), $"{command}\nanswered {status} without a body");
                if (body.TrimStart().StartsWith('{') && JsonNode.Parse(body)?["items"] is JsonArray items)
                    Assert.True(items.Count > 0, $"{command}\nlists nothing on the demo data: {body}");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static string? OutputFile(string command)
    {
        var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.IndexOf(parts, "-o");
        return at >= 0 && at + 1 < parts.Length ? parts[at + 1].Trim('\'', '"') : null;
    }

    static async Task<(int ExitCode, string Output)> RunAsync(string command, string folder, string key)
    {
        var start = new ProcessStartInfo("bash", ["-c", command])
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.Environment["KEY"] = key;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not run bash.");
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await output + await error);
    }

    /// <summary>One HTTP/1.1 request with <paramref name="target"/> as raw bytes on the wire; the status and body.</summary>
    static async Task<(int Status, string Headers, string Body)> SendRawAsync(ApiProcess api, byte[] target)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", api.Port, Ct);
        var stream = tcp.GetStream();
        var request = new MemoryStream();
        request.Write("GET "u8);
        request.Write(target);
        request.Write(Encoding.ASCII.GetBytes($" HTTP/1.1\r\nHost: 127.0.0.1:{api.Port}\r\nAuthorization: Bearer {api.ApiKey}\r\nAccept: " +
            $"application/json\r\nConnection: close\r\n\r\n"));
        await stream.WriteAsync(request.ToArray(), Ct);
        using var answer = new MemoryStream();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await stream.CopyToAsync(answer, timeout.Token);
        var text = Encoding.UTF8.GetString(answer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = split < 0 ? text : text[..split];
        var status = int.Parse(headers.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = split < 0 ? "" : text[(split + 4)..];
        if (headers.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)) body = Unchunk(body);
        return (status, headers, body);
    }

    static string Unchunk(string chunked)
    {
        var body = new StringBuilder();
        var bytes = Encoding.UTF8.GetBytes(chunked);
        var at = 0;
        while (true)
        {
            var lineEnd = IndexOf(bytes, at);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(bytes, at, lineEnd - at).Split(';')[0], 16);
            if (size == 0) break;
            body.Append(Encoding.UTF8.GetString(bytes, lineEnd + 2, size));
            at = lineEnd + 2 + size + 2;
        }
        return body.ToString();

        static int IndexOf(byte[] bytes, int from)
        {
            for (var i = from; i < bytes.Length - 1; i++)
                if (bytes[i] == '\r' && bytes[i + 1] == '\n') return i;
            return bytes.Length;
        }
    }

    /// <summary>
    /// Kestrel refuses a request target with bytes outside ASCII before the application sees it (a bodiless 400; it
    /// has no setting to accept them), as RFC 9112 allows: the README's examples percent-encode (<c>-G
    /// --data-urlencode</c>), and the README says so. Percent-encoded UTF-8 is read as UTF-8 and the Chinese search works.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task Raw_utf8_in_the_query_is_refused_by_kestrel_as_documented_and_percent_encoded_utf8_searches_in_chinese()
    {
        await using var api = await StartWithDemoDataAsync();

        var raw = await SendRawAsync(api, Encoding.UTF8.GetBytes("/api/v1/issues?round=HN-8-6-6&q=殡葬"));
        Assert.Equal(400, raw.Status);
        Assert.Equal("", raw.Body);

        var encoded = await SendRawAsync(api, Encoding.ASCII.GetBytes("/api/v1/issues?round=HN-8-6-6&q=" + Uri.EscapeDataString("殡葬")));
        Assert.True(encoded.Status == 200, $"{encoded.Status}: {encoded.Body}");
        var items = JsonNode.Parse(encoded.Body)!["items"]!.AsArray();
        Assert.NotEmpty(items);
        Assert.Contains(items, item => item!.ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.All),
        }).Contains("殡葬", StringComparison.Ordinal));

        var readme = await File.ReadAllTextAsync(Path.Combine(ApiProcess.RepositoryRoot()!, "README.md"), Ct);
        Assert.Contains("--data-urlencode 'q=殡葬'", readme, StringComparison.Ordinal);
    }
}
