using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>
/// The service as a real process (<c>dotnet Rectify.Api.dll</c>) behind Kestrel on a free loopback port: for faults a
/// TestServer cannot show — the process killed with SIGKILL, stopped with SIGTERM, Kestrel's request-body data rate.
/// Every process started here is killed when the test ends or the test run exits, whatever happens.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    static readonly ConcurrentDictionary<int, Process> Running = new();
    const int KeptOutputLines = 200;

    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();

    static ApiProcess()
    {
        // A test that fails or times out still disposes its process; this covers a run that is itself stopped.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Running.Values) KillQuietly(process);
        };
    }

    ApiProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>The last lines the process wrote (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Starts the service with <paramref name="settings"/> as environment variables (<c>Section__Key</c>) and waits until
    /// <c>/health/live</c> answers.
    /// </summary>
    public static async Task<ApiProcess> StartAsync(IReadOnlyDictionary<string, string> settings, CancellationToken ct)
    {
        var dll = LocateApi();
        var port = FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings) start.Environment[key] = value;

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        Running[process.Id] = process;
        var api = new ApiProcess(process, port);
        process.OutputDataReceived += (_, e) => api.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => api.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await api.WaitUntilLiveAsync(ct);
            return api;
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
    }

    void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines) _output.TryDequeue(out _);
    }

    async Task WaitUntilLiveAsync(CancellationToken ct)
    {
        using var client = Client(TimeSpan.FromSeconds(2));
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited) throw new InvalidOperationException($"The service exited with {_process.ExitCode} while starting:\n{Output}");
            try
            {
                using var response = await client.GetAsync("/health/live", ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"The service did not answer /health/live within 30 s:\n{Output}");
    }

    /// <summary>The key every client of this process sends.</summary>
    public string? ApiKey { get; set; }

    /// <summary>A client of this process; each request is bounded by <paramref name="timeout"/>, so a hang fails the test.</summary>
    public HttpClient Client(TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
        if (ApiKey is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiKey);
        return client;
    }

    /// <summary>SIGKILL: no shutdown code runs, the sockets to PostgreSQL are simply closed by the kernel.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGTERM: the orderly stop an orchestrator sends.</summary>
    public async Task TerminateAsync(CancellationToken ct)
    {
        using var kill =
            Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not run kill.");
        await kill.WaitForExitAsync(ct);
    }

    /// <summary>Waits for the process to end; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The service did not exit within {within.TotalSeconds} s:\n{Output}");
        }
        Running.TryRemove(_process.Id, out _);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        KillQuietly(_process);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }
        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
    }

    static void KillQuietly(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>
    /// The built service: next to the test assembly (a referenced executable is copied there with its runtimeconfig), else
    /// the service's own output (artifacts layout <c>bin/Rectify.Api/debug</c>, or <c>src/Rectify.Api/bin/Debug/net10.0</c>),
    /// else it is built into a temporary folder.
    /// </summary>
    internal static string LocateApi()
    {
        const string name = "Rectify.Api.dll";
        static bool Runnable(string dir) => File.Exists(Path.Combine(dir, name)) && File.Exists(Path.Combine(dir, "Rectify.Api.runtimeconfig.json"));

        var here = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var configuration = Configuration;
        var candidates = new List<string> { here };
        // artifacts: <artifacts>/bin/Rectify.Api.Tests/<pivot> → <artifacts>/bin/Rectify.Api/<pivot>
        var pivot = Path.GetFileName(here);
        var projects = Path.GetDirectoryName(Path.GetDirectoryName(here));
        if (projects is not null) candidates.Add(Path.Combine(projects, "Rectify.Api", pivot));
        if (RepositoryRoot() is { } root)
        {
            candidates.Add(Path.Combine(root, "src", "Rectify.Api", "bin", configuration, "net10.0"));
            candidates.Add(Path.Combine(root, "artifacts", "bin", "Rectify.Api", configuration.ToLowerInvariant()));
        }
        if (candidates.FirstOrDefault(Runnable) is { } found) return Path.Combine(found, name);
        return BuildOnce.Value;
    }

    static readonly Lazy<string> BuildOnce = new(() =>
    {
        var root = RepositoryRoot()
            ?? throw new InvalidOperationException("Rectify.Api.dll was not found and the repository is not above the tests.");
        var output = Path.Combine(Path.GetTempPath(), $"rectify-api-build-{Environment.ProcessId}");
        using var build = Process.Start(new ProcessStartInfo("dotnet",
            ["build", Path.Combine(root, "src", "Rectify.Api"), "-c", Configuration, "-o", output, "--nologo", "-v", "q"])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("Could not run dotnet build.");
        var log = build.StandardOutput.ReadToEnd() + build.StandardError.ReadToEnd();
        build.WaitForExit();
        if (build.ExitCode != 0) throw new InvalidOperationException($"Building Rectify.Api failed:\n{log}");
        return Path.Combine(output, "Rectify.Api.dll");
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Rectify.sln"))) return dir.FullName;
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Rectify.sln"))) return dir.FullName;
        return null;
    }

#if DEBUG
    const string Configuration = "Debug";
#else
    const string Configuration = "Release";
#endif

    static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
