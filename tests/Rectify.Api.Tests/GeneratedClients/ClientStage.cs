using System.Diagnostics;
using System.Text;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.GeneratedClients;

/// <summary>
/// One generator's stage in a temporary folder of its own: the committed client program (tests/Clients/&lt;name&gt;) is
/// copied there, the tools run in it as processes, and any non-zero exit fails the test with the tool's output.
/// </summary>
public sealed class ClientStage : IDisposable
{
    static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    ClientStage(string folder) => Folder = folder;

    /// <summary>The repository's tests/Clients folder: the client programs and the tool manifest.</summary>
    public static string ClientsRoot => Path.Combine(RepositoryRoot, "tests", "Clients");

    /// <summary>The committed document the clients are generated from.</summary>
    public static string Document => Path.Combine(RepositoryRoot, "openapi", "v1.json");

    public static string RepositoryRoot => ApiProcess.RepositoryRoot()
        ?? throw new InvalidOperationException("The repository is not above the tests.");

    public string Folder { get; }

    /// <summary>A copy of tests/Clients/<paramref name="program"/> (without build output or installed packages).</summary>
    public static ClientStage CopyOf(string program)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"rectify-client-{program}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(ClientsRoot, program)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        // The C# programs share their checks (tests/Clients/shared) rather than each keeping a copy.
        if (Directory.EnumerateFiles(folder, "*.csproj").Any())
            foreach (var file in Directory.EnumerateFiles(Path.Combine(ClientsRoot, "shared"), "*.cs"))
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return new ClientStage(folder);
    }

    /// <summary>A copy of the files (not the subfolders) of <paramref name="source"/>, a folder of the repository.</summary>
    public static ClientStage CopyOfFolder(string source)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"rectify-stage-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryRoot, source)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return new ClientStage(folder);
    }

    /// <summary>Runs <paramref name="command"/> in <paramref name="workingDirectory"/> (the stage's folder by default); its output.</summary>
    public async Task<string> RunAsync(string command, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = workingDirectory ?? Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The test runs under dotnet test: its MSBuild settings must not leak into the builds the stage starts.
        foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(inherited);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["NO_UPDATE_NOTIFIER"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;

        var described = $"{command} {string.Join(' ', arguments)}";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {described}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // CI has node, npm and the dotnet SDK: a missing tool is a failure of the stage, not a reason to skip it.
            throw new InvalidOperationException($"{command} is not installed or not on PATH ({e.Message}); the generated-client stage needs it.", e);
        }
        using (process)
        {
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var timer = Stopwatch.StartNew();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(StepTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{described} did not finish within {StepTimeout.TotalMinutes} min:\n{output}");
            }
            process.WaitForExit(); // drains the output
            var text = output.ToString();
            TestContext.Current.TestOutputHelper?.WriteLine($"{described}: exit {process.ExitCode} after {timer.Elapsed.TotalSeconds:0.0} s");
            if (process.ExitCode != 0) throw new InvalidOperationException($"{described} exited with {process.ExitCode}:\n{text}");
            return text;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
