using System.Net;
using System.Runtime.InteropServices;

namespace Rectify.Push;

/// <summary>
/// The entry point. Not called <c>Program</c>: the test project references this assembly and the API, and the
/// API's top-level <c>Program</c> must stay the only one for <c>WebApplicationFactory&lt;Program&gt;</c>.
/// </summary>
public static class PushProgram
{
    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        // systemd stops a unit with SIGTERM, a person with Ctrl+C: both end the push cleanly with its exit code.
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

        using var handler = new SocketsHttpHandler
        {
            // A redirect would resend the body and the key to an address nobody configured; see PushClient.
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = DecompressionMethods.All,
        };
        var command = new PushCommand(handler, Console.Out, Console.Error);
        return await command.RunAsync(args, stop.Token);
    }
}

/// <summary>
/// Arguments in, exit code out: reads the key file, composes a <see cref="PushClient"/> and reports its result.
/// Takes the handler and writers so that tests run the whole program without a network or a console.
/// </summary>
public sealed class PushCommand(HttpMessageHandler handler, TextWriter stdout, TextWriter stderr, TimeProvider? time = null)
{
    /// <summary>Median first back-off; tests make it small.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(2);

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        PushOptions options;
        try
        {
            var arguments = PushArguments.Parse(args);
            if (arguments.Help)
            {
                stdout.WriteLine(PushArguments.Usage);
                return ExitCodes.Success;
            }
            if (!File.Exists(arguments.FilePath)) throw new UsageException($"No such file: {arguments.FilePath}");
            var key = arguments.KeyFile is { } keyFile ? ReadKey(keyFile) : null;
            options = arguments.ToOptions(key, RetryBaseDelay);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"rectify-push: {e.Message}");
            stderr.WriteLine("Run rectify-push --help for usage.");
            return ExitCodes.Usage;
        }

        if (options.ApiKey is not null && options.BaseUrl.Scheme == Uri.UriSchemeHttp && !options.BaseUrl.IsLoopback)
            stderr.WriteLine($"rectify-push: warning: the API key is sent in clear text to {options.BaseUrl.Host}; use https");

        // The pipeline's per-attempt timeout governs; HttpClient's own 100 s default would cut off large uploads.
        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("rectify-push/1.0");
        var client = new PushClient(http, options, time, stderr);
        var result = await client.PushAsync(ct);
        PushReport.Write(result, options, stdout, stderr);
        return result.ExitCode;
    }

    /// <summary>The key, trimmed. Messages name the file, never its content.</summary>
    string ReadKey(string path)
    {
        string key;
        try
        {
            key = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"Cannot read the key file {path}: {e.Message}");
        }
        if (key.Length == 0) throw new UsageException($"The key file {path} is empty.");
        if (key.Any(c => c is < '!' or > '~'))
            throw new UsageException($"The key file {path} holds characters that cannot be sent in an HTTP header (one key, on one line).");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            stderr.WriteLine($"rectify-push: warning: {path} can be read by every user; chmod 600 it");
        return key;
    }
}
