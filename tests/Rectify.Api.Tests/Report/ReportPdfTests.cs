using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Report;

/// <summary>The service with the reference case, and a PDF timeout generous enough for a machine busy with other test runs.</summary>
public sealed class ReportPdfApp(TestCluster cluster) : RectifyApp(cluster)
{
    protected override bool LoadDemoData => true;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Rectify:Report:PdfTimeout", "00:03:00");
    }
}

/// <summary>
/// format=pdf: the published reference report printed by the host's Chromium (A4 pages whose text is the report's, as a
/// download), and the 503 pdf-unavailable problem when there is no Chromium or it hangs, with the hung browser killed.
/// Where Chromium is absent the printing test is skipped, unless RECTIFY_REPORT_REQUIRE_PNG=1 (CI) makes it fail.
/// </summary>
public sealed class ReportPdfTests : IClassFixture<ReportPdfApp>
{
    const string Period = "2025-10";
    readonly ReportPdfApp _app;

    public ReportPdfTests(ReportPdfApp app)
    {
        _app = app;
        app.AtReportDay();
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static string PdfUrl => ReportKit.Url(ReportKit.Round, Period, "pdf");

    [Fact]
    public async Task The_published_report_prints_to_an_a4_pdf_download_with_its_text()
    {
        if (Programs.Find("chromium", "chromium-browser", "google-chrome") is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("RECTIFY_REPORT_REQUIRE_PNG") == "1", "No chromium on PATH: apt-get install -y chromium fonts-noto-cjk");
            Assert.Skip("No chromium on PATH (Debian: apt-get install -y chromium fonts-noto-cjk): format=pdf cannot print here.");
        }
        using var client = _app.Client();
        client.Timeout = TimeSpan.FromMinutes(5);
        // Published as the office would at each month's end (months are published in order).
        foreach (var month in new[] { "2025-09", Period })
        {
            var url = $"/api/v1/rounds/{ReportKit.Round}/snapshots/{month}";
            using (var push = await client.PutJsonAsync(url, new { narrative = "专班会议审定整改进展。" }, ifMatch: null)) await push.ShouldBeAsync(HttpStatusCode.OK);
            using (var publish = await client.PostJsonAsync(url + "/publish", new { note = "专班会议审定" })) await publish.ShouldBeAsync(HttpStatusCode.OK);
        }

        using var response = await client.GetAsync(PdfUrl, Ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200 but got {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}");
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("%PDF-"u8.ToArray(), bytes.Take(5));
        var disposition = response.Content.Headers.ContentDisposition;
        Assert.Equal("attachment", disposition?.DispositionType);
        Assert.Equal("HN-8-6-6-2025-10-progress-report.pdf", disposition?.FileNameStar);
        Assert.Contains("filename*=UTF-8''HN-8-6-6-2025-10-progress-report.pdf", response.Content.Headers.GetValues("Content-Disposition").Single());
        // The same caching as the page it prints: a published month, to a caller with a key.
        Assert.True(response.Headers.CacheControl is { Private: true, MaxAge.TotalSeconds: 300 }, $"Cache-Control: {response.Headers.CacheControl}");
        using (var html = await client.GetAsync(ReportKit.Url(ReportKit.Round, Period, "html"), Ct))
            Assert.Equal(html.Headers.CacheControl?.ToString(), response.Headers.CacheControl?.ToString());

        var pdf = Path.Combine(Directory.CreateTempSubdirectory("rectify-pdf-test-").FullName, "report.pdf");
        try
        {
            await File.WriteAllBytesAsync(pdf, bytes, Ct);
            var info = await Programs.RunAsync(Programs.Required("pdfinfo"), [pdf], Ct);
            // A4 is 595.28 x 841.89 pt; Chromium rounds the page to its own units (594.96 x 841.92).
            var size = Regex.Match(info, @"Page size:\s+([\d.]+) x ([\d.]+) pts");
            Assert.True(size.Success, info);
            var (width, height) = (Points(size.Groups[1].Value), Points(size.Groups[2].Value));
            Assert.True(Math.Abs(width - 595.28) < 1 && Math.Abs(height - 841.89) < 1, $"the pages are {width} x {height} pt, not A4");
            var pages = int.Parse(Regex.Match(info, @"Pages:\s+(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(pages, 2, 40);
            var text = await Programs.RunAsync(Programs.Required("pdftotext"), ["-enc", "UTF-8", pdf, "-"], Ct);
            Assert.Contains("巡视整改进展情况通报", text);
            Assert.Contains("整改进展情况（截至2025年10月）", text);
            Assert.Contains("殡葬改革推行不力", text);
            Assert.Contains("数据状态：已发布", text);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(pdf)!, recursive: true);
        }
    }

    [Fact]
    public async Task A_configured_chromium_that_does_not_exist_is_a_503_pdf_unavailable_problem_in_the_callers_language()
    {
        await using var app = _app.WithWebHostBuilder(builder => builder
            .UseSetting("Database:LoadDemoData", "false")
            .UseSetting("Rectify:Report:ChromiumPath", "/nonexistent/rectify/chromium"));
        using var client = app.CreateClient();

        using (var response = await client.GetAsync(PdfUrl, Ct))
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "pdf-unavailable");
            Assert.Contains("format=html", problem["detail"]!.GetValue<string>());
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Null(response.Content.Headers.ContentDisposition);
        }

        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        using (var response = await client.GetAsync(PdfUrl, Ct))
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "pdf-unavailable");
            Assert.Equal("暂时无法生成 PDF", problem["title"]!.GetValue<string>());
        }

        // The other formats do not need the browser.
        using var html = await client.GetAsync(ReportKit.Url(ReportKit.Round, Period, "html"), Ct);
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
    }

    [Fact]
    public async Task A_chromium_that_hangs_is_killed_at_the_timeout_and_answered_503()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The hung browser is a shell script, and its processes are looked up in /proc.");
        using var hung = await HungBrowser.CreateAsync();
        var before = PrintFolders();
        await using var app = _app.WithWebHostBuilder(builder => builder
            .UseSetting("Database:LoadDemoData", "false")
            .UseSetting("Rectify:Report:ChromiumPath", hung.Script)
            .UseSetting("Rectify:Report:PdfTimeout", "00:00:03"));
        using var client = app.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5);

        var clock = Stopwatch.StartNew();
        using (var response = await client.GetAsync(PdfUrl, Ct))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "pdf-unavailable");
            Assert.NotNull(response.Headers.RetryAfter);
        }
        // Within the timeout and the kill's grace, with room for a machine busy with other test runs: never the sleep's 600 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the hung print was answered after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"answered after {clock.Elapsed.TotalSeconds:0.0} s, before the timeout");
        await hung.AssertGoneAsync();
        Assert.Empty(PrintFolders().Except(before));
    }

    [Fact]
    public async Task A_caller_that_goes_away_takes_its_print_with_it()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The hung browser is a shell script, and its processes are looked up in /proc.");
        using var hung = await HungBrowser.CreateAsync();
        await using var app = _app.WithWebHostBuilder(builder => builder
            .UseSetting("Database:LoadDemoData", "false")
            .UseSetting("Rectify:Report:ChromiumPath", hung.Script)
            .UseSetting("Rectify:Report:PdfTimeout", "00:10:00"));
        using var client = app.CreateClient();
        client.Timeout = TimeSpan.FromMinutes(5);

        using var gone = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var request = client.GetAsync(PdfUrl, gone.Token);
        await hung.StartedAsync();
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await hung.AssertGoneAsync();
    }

    /// <summary>
    /// A "browser" that never prints: a shell script that records its own process and its child's (a sleep of 600 s),
    /// then waits for the child.
    /// </summary>
    sealed class HungBrowser : IDisposable
    {
        readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("rectify-hung-chromium-");

        public string Script => Path.Combine(_folder.FullName, "chromium");

        string Pids => Path.Combine(_folder.FullName, "pids");

        public static async Task<HungBrowser> CreateAsync()
        {
            var hung = new HungBrowser();
            var pids = hung.Pids;
            await File.WriteAllTextAsync(hung.Script, $"#!/bin/sh\necho $$ > '{pids}.tmp'\nsleep 600 &\necho $! >> '{pids}.tmp'\nmv '{pids}.tmp' '{pids}'\nwait\n", Ct);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hung.Script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return hung;
        }

        public async Task StartedAsync()
        {
            for (var wait = Stopwatch.StartNew(); !File.Exists(Pids); await Task.Delay(100, Ct))
                Assert.True(wait.Elapsed < TimeSpan.FromMinutes(2), "the hung browser was never started");
        }

        /// <summary>Asserts that both of the script's processes are gone (killed, not left behind).</summary>
        public async Task AssertGoneAsync()
        {
            Assert.True(File.Exists(Pids), "the script never started, so its kill cannot be checked");
            var started = (await File.ReadAllLinesAsync(Pids, Ct)).Select(l => int.Parse(l.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(2, started.Count);
            var alive = started;
            for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(30) && alive.Count > 0; await Task.Delay(200, Ct))
                alive = started.Where(Running).ToList();
            Assert.True(alive.Count == 0, $"left running: processes {string.Join(", ", alive)}");
        }

        public void Dispose()
        {
            // Should the kill have failed, the test leaves no sleeper behind either.
            if (File.Exists(Pids))
                foreach (var line in File.ReadAllLines(Pids))
                    if (int.TryParse(line.Trim(), out var pid) && Running(pid))
                        try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
            _folder.Delete(recursive: true);
        }
    }

    static double Points(string value) => double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The printer's folders now in the temporary directory.</summary>
    static HashSet<string> PrintFolders() => Directory.EnumerateDirectories(Path.GetTempPath(), "rectify-pdf-*")
        .Where(d => !Path.GetFileName(d).StartsWith("rectify-pdf-test-", StringComparison.Ordinal)).ToHashSet();

    /// <summary>Whether a process runs: a killed one whose parent died may stay a zombie until init reaps it, which is not running.</summary>
    static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }
}
