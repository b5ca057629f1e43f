using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Report;

public sealed class ReportOptions
{
    public const string Section = "Rectify:Report";

    /// <summary>The Chromium (or Chrome) program that prints PDFs; unset, the first of chromium, chromium-browser, google-chrome on PATH.</summary>
    public string? ChromiumPath { get; set; }

    /// <summary>How long one PDF may take, waiting for a free printer included; past it the print is killed and the answer is a 503.</summary>
    public TimeSpan PdfTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many PDFs print at once: each is a browser of a few hundred MB and a core's worth of CPU.</summary>
    public int PdfConcurrency { get; set; } = 2;
}

/// <summary>
/// Prints the report's HTML to an A4 PDF with headless Chromium, one child process per print in a folder of its own
/// (the page, the profile, the PDF), deleted afterwards. The page is self-contained, so Chromium is kept off the network.
/// A missing browser, a failed print, a print past <see cref="ReportOptions.PdfTimeout"/> are 503 pdf-unavailable problems.
/// </summary>
public sealed class PdfPrinter(IOptions<ReportOptions> options, ILogger<PdfPrinter> logger) : IDisposable
{
    public const string ContentType = "application/pdf";

    static readonly string[] Candidates = ["chromium", "chromium-browser", "google-chrome"];

    readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.PdfConcurrency));

    public async Task<byte[]> PrintAsync(string html, CancellationToken ct)
    {
        var chromium = Locate(options.Value.ChromiumPath);
        if (chromium is null)
        {
            logger.LogWarning("No Chromium to print a PDF: configured {ChromiumPath}, searched PATH for {Candidates}",
                options.Value.ChromiumPath, Candidates);
            throw Unavailable("No Chromium is installed to print the report as PDF: use format=html or format=md.");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.Value.PdfTimeout);
        try
        {
            await _slots.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("No PDF printer came free within {Timeout}", options.Value.PdfTimeout);
            throw Failed();
        }
        try
        {
            return await PrintInFolderAsync(chromium, html, deadline.Token, ct);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The timeout struck outside the browser's run (writing the page, reading the PDF): still a 503, not a 500.
            logger.LogWarning("Printing a PDF took longer than {Timeout}", options.Value.PdfTimeout);
            throw Failed();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("The print folder could not be written or read: {Reason}", e.Message);
            throw Failed();
        }
        finally
        {
            _slots.Release();
        }
    }

    async Task<byte[]> PrintInFolderAsync(string chromium, string html, CancellationToken deadline, CancellationToken ct)
    {
        var folder = Directory.CreateTempSubdirectory("rectify-pdf-");
        try
        {
            var page = Path.Combine(folder.FullName, "report.html");
            var pdf = Path.Combine(folder.FullName, "report.pdf");
            await File.WriteAllTextAsync(page, html, deadline);
            var started = Stopwatch.GetTimestamp();
            var (exitCode, errors) = await RunAsync(chromium, Arguments(folder.FullName, page, pdf), folder.FullName, deadline, ct);
            var bytes = exitCode == 0 && File.Exists(pdf) ? await File.ReadAllBytesAsync(pdf, deadline) : [];
            if (bytes is not [(byte)'%', (byte)'P', (byte)'D', (byte)'F', (byte)'-', ..])
            {
                logger.LogWarning("Chromium ({Chromium}) exited with {ExitCode} without a PDF: {Errors}", chromium, exitCode, errors);
                throw Failed();
            }
            logger.LogInformation("Printed a {Bytes}-byte PDF in {Elapsed:0} ms", bytes.Length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return bytes;
        }
        finally
        {
            Delete(folder);
        }
    }

    /// <summary>
    /// Headless printing, and everything that would reach the network switched off: names resolve to nothing, so even a
    /// URL that slipped into the page could not be fetched. --no-sandbox because the sandbox cannot start as root nor in a
    /// container without user namespaces; what runs unsandboxed is the service's own script-free page, no one else's.
    /// </summary>
    static List<string> Arguments(string folder, string page, string pdf) =>
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync", "--disable-default-apps",
        "--disable-background-networking", "--disable-component-update", "--disable-domain-reliability", "--disable-breakpad",
        "--disable-crash-reporter", "--metrics-recording-only", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
        $"--user-data-dir={Path.Combine(folder, "profile")}", "--no-pdf-header-footer", $"--print-to-pdf={pdf}", new Uri(page).AbsoluteUri,
    ];

    /// <summary>
    /// Runs the browser to its end. On timeout or cancellation its whole process tree is killed: a browser left behind
    /// would hold memory and CPU with nobody waiting for it.
    /// </summary>
    async Task<(int ExitCode, string Errors)> RunAsync(string program, List<string> arguments, string home, CancellationToken deadline,
        CancellationToken ct)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = home,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // The service's own home may be read-only (a container's user); the browser's config and caches go to the print's folder.
        start.Environment["HOME"] = home;
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(home, "config");
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(home, "cache");

        // Chromium talks a lot on stderr (D-Bus and the like): only the last lines are kept, for the log of a failure.
        var tail = new ConcurrentQueue<string>();
        void Keep(object _, DataReceivedEventArgs line)
        {
            if (line.Data is null) return;
            tail.Enqueue(line.Data);
            while (tail.Count > 20) tail.TryDequeue(out string? _);
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            logger.LogWarning("Chromium ({Chromium}) did not start: {Reason}", program, e.Message);
            throw Failed();
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(deadline);
            return (process.ExitCode, string.Join('\n', tail));
        }
        catch (OperationCanceledException)
        {
            await KillAsync(process);
            if (ct.IsCancellationRequested) throw;
            logger.LogWarning("Chromium ({Chromium}) took longer than {Timeout} to print a PDF and was killed: {Errors}",
                program, options.Value.PdfTimeout, string.Join('\n', tail));
            throw Failed();
        }
    }

    async Task KillAsync(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            logger.LogDebug("Chromium ended before it was killed: {Reason}", e.Message);
        }
        // Reap it, but never wait for long: a grandchild that escaped the tree could hold the output pipes open.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Chromium (process {Pid}) was killed but its output did not close within 5 s", process.Id);
        }
    }

    void Delete(DirectoryInfo folder)
    {
        // A browser killed a moment ago may still be closing files in it: one more try after a pause.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                folder.Delete(recursive: true);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (attempt == 1) logger.LogWarning("The print folder {Folder} was not deleted: {Reason}", folder.FullName, e.Message);
                else Thread.Sleep(200);
            }
        }
    }

    /// <summary>The configured program when it exists (never another in its place), else the first candidate on PATH.</summary>
    static string? Locate(string? configured)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return File.Exists(configured) ? configured : null;
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return Candidates.SelectMany(name => folders.Select(folder => Path.Combine(folder, name))).FirstOrDefault(File.Exists);
    }

    static ProblemException Failed() => Unavailable(
        "Printing the report as PDF failed or took too long. Retry after the time given in Retry-After, or use format=html.");

    static ProblemException Unavailable(Text detail)
        => new(StatusCodes.Status503ServiceUnavailable, ProblemTypes.PdfUnavailable, "The PDF cannot be printed now", detail);

    public void Dispose() => _slots.Dispose();
}
