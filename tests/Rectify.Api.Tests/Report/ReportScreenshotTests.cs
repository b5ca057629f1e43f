using System.Diagnostics;
using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Report;

/// <summary>
/// Renders the reference case's published October report to files and, where Debian's chromium is installed, to a PNG
/// through headless Chromium, for a person to look at (tests/Report/render-report.sh runs this test alone).
/// RECTIFY_REPORT_OUT names the folder (default: a temporary one); RECTIFY_REPORT_REQUIRE_PNG=1 fails instead of
/// skipping when there is no Chromium.
/// </summary>
public sealed class ReportScreenshotTests : IClassFixture<RectifyAppWithDemoData>
{
    readonly RectifyAppWithDemoData _app;
    readonly HttpClient _client;

    public ReportScreenshotTests(RectifyAppWithDemoData app)
    {
        _app = app;
        app.AtReportDay();
        _client = app.Client();
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Pushes and publishes September and October, as the office would at each month's end.</summary>
    async Task PublishAsync(string period, string narrative)
    {
        var url = $"/api/v1/rounds/{ReportKit.Round}/snapshots/{period}";
        using (var push = await _client.PutJsonAsync(url, new { narrative }, ifMatch: null)) await push.ShouldBeAsync(HttpStatusCode.OK);
        using (var publish = await _client.PostJsonAsync(url + "/publish", new { note = "专班会议审定" })) await publish.ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_published_reference_report_renders_in_headless_chromium()
    {
        await PublishAsync("2025-09", "9月，专班召开会议通报整改进展。");
        await PublishAsync("2025-10", """
            在集中整改转为常态整改后，厅党组将定期研究巡视整改工作，动态掌握整改进展，确保反馈问题逐项整改到位。
            对未完成整改的事项，逐一梳理症结堵点，细化时间表、路线图和责任人；对推进缓慢的及时提醒预警，严格执行对账销号制度。
            """);

        var folder = Environment.GetEnvironmentVariable("RECTIFY_REPORT_OUT") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetTempPath(), "rectify-report-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        var html = await _client.HtmlAsync(ReportKit.Round, "2025-10");
        Assert.Contains("数据状态：已发布（第1版，2025年11月5日发布）", html);
        var htmlPath = Path.Combine(folder, "report.html");
        await File.WriteAllTextAsync(htmlPath, html, Ct);
        await File.WriteAllTextAsync(Path.Combine(folder, "report.md"), await _client.MarkdownAsync(ReportKit.Round, "2025-10"), Ct);
        TestContext.Current.SendDiagnosticMessage($"Report written to {htmlPath}");

        var chromium = new[] { "chromium", "chromium-browser", "google-chrome" }.Select(Find).FirstOrDefault(p => p is not null);
        if (chromium is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("RECTIFY_REPORT_REQUIRE_PNG") == "1", "No chromium on PATH: apt-get install -y chromium fonts-noto-cjk");
            Assert.Skip("No chromium on PATH (Debian: apt-get install -y chromium fonts-noto-cjk): the HTML was written, the PNG was not rendered.");
        }

        var height = int.TryParse(Environment.GetEnvironmentVariable("RECTIFY_REPORT_HEIGHT"), out var h) ? h : 4000;
        var png = Path.Combine(folder, "report.png");
        File.Delete(png);
        // A profile of its own, so that runs side by side do not share one, removed afterwards.
        var profile = Directory.CreateTempSubdirectory("rectify-chromium-");
        try
        {
            await RunAsync(chromium!, [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-background-networking",
                $"--user-data-dir={profile.FullName}", $"--screenshot={png}", $"--window-size=1240,{height}", new Uri(htmlPath).AbsoluteUri,
            ]);
        }
        finally
        {
            profile.Delete(recursive: true);
        }

        var bytes = await File.ReadAllBytesAsync(png, Ct);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes.Take(4));
        Assert.True(bytes.Length > 50_000, $"a {bytes.Length}-byte PNG is too small to hold the report");
        TestContext.Current.SendDiagnosticMessage($"Screenshot written to {png}");
    }

    static string? Find(string program)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    static async Task RunAsync(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var errors = process.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        Assert.True(process.ExitCode == 0, $"{program} exited with {process.ExitCode}: {await output}{await errors}");
    }
}
