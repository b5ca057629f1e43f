using System.Diagnostics;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>Programs of the machine the tests call (Chromium, poppler's pdfinfo and pdftotext), found on PATH.</summary>
public static class Programs
{
    /// <summary>The first of <paramref name="programs"/> found on PATH; null when none is.</summary>
    public static string? Find(params string[] programs)
        => programs.SelectMany(p => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(dir => Path.Combine(dir, p)))
            .FirstOrDefault(File.Exists);

    /// <summary>A poppler program, which CI installs: its absence fails the test rather than skipping it.</summary>
    public static string Required(string program)
        => Find(program) ?? throw new InvalidOperationException($"{program} is not on PATH (Debian: apt-get install -y poppler-utils).");

    /// <summary>Runs a program to its end (at most 2 minutes) and returns what it printed; a non-zero exit fails the test.</summary>
    public static async Task<string> RunAsync(string program, IEnumerable<string> arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var (exitCode, output, errors) = await RunToEndAsync(start, TimeSpan.FromMinutes(2), ct);
        Assert.True(exitCode == 0, $"{program} exited with {exitCode}: {output}{errors}");
        return output;
    }

    /// <summary>
    /// Runs <paramref name="start"/> (its output and errors captured) to its end, killing the process tree when it takes
    /// longer than <paramref name="bound"/> or the test is cancelled.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunToEndAsync(ProcessStartInfo start, TimeSpan bound,
        CancellationToken ct)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output, await errors);
    }
}
