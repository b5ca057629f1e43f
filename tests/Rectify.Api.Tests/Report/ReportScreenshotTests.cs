using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Report;

/// <summary>
/// Renders the reference case's published October report to files and, where Debian's chromium is installed, to a PNG
/// and a PDF through headless Chromium, for a person to look at (tests/Report/render-report.sh runs this test alone),
/// and checks what a reader sees: the charts drawn within an A4 width, the Chinese text printed in a CJK font.
/// RECTIFY_REPORT_OUT names the folder (default: a temporary one); RECTIFY_REPORT_REQUIRE_PNG=1 (set by CI, which
/// installs Chromium) fails instead of skipping when there is no Chromium.
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

        var chromium = Programs.Find("chromium", "chromium-browser", "google-chrome");
        if (chromium is null)
        {
            Assert.False(Environment.GetEnvironmentVariable("RECTIFY_REPORT_REQUIRE_PNG") == "1", "No chromium on PATH: apt-get install -y chromium fonts-noto-cjk");
            Assert.Skip("No chromium on PATH (Debian: apt-get install -y chromium fonts-noto-cjk): the HTML was written, the PNG was not rendered.");
        }

        var height = int.TryParse(Environment.GetEnvironmentVariable("RECTIFY_REPORT_HEIGHT"), out var h) ? h : 4000;
        var png = Path.Combine(folder, "report.png");
        File.Delete(png);
        await RunChromiumAsync(chromium!, $"--screenshot={png}", $"--window-size=1240,{height}", new Uri(htmlPath).AbsoluteUri);
        var bytes = await File.ReadAllBytesAsync(png, Ct);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes.Take(4));
        Assert.True(bytes.Length > 50_000, $"a {bytes.Length}-byte PNG is too small to hold the report");
        TestContext.Current.SendDiagnosticMessage($"Screenshot written to {png}");

        await ChartsAreDrawnWithinAnA4PageAsync(chromium!, folder, html);
        await PrintsOnA4PagesWithItsTextAsync(chromium!, folder, htmlPath);
    }

    /// <summary>
    /// What a reader sees at A4 width (210 mm = 794 CSS px): the page, laid out by the browser, is no wider than the
    /// window, every chart the HTML holds is drawn with a size, and the Chinese is set in a CJK font. A probe script appended to a copy of the page
    /// measures the layout and leaves its findings in the DOM that Chromium dumps.
    /// </summary>
    async Task ChartsAreDrawnWithinAnA4PageAsync(string chromium, string folder, string html)
    {
        const string Probe = """
            <script>
            (() => {
              const width = document.documentElement.clientWidth;
              let widest = 0, offender = "";
              for (const e of document.querySelectorAll("body *")) {
                const right = e.getBoundingClientRect().right;
                if (right > widest) { widest = right; offender = e.tagName + "." + e.className; }
              }
              const drawn = [...document.querySelectorAll("svg")].filter(s => s.getBoundingClientRect().width > 0 && s.getBoundingClientRect().height > 0).length;
              // In a CJK font every Han character is one em wide; the last-resort boxes of a missing font are narrower.
              const sample = document.createElement("span");
              sample.style.cssText = "font-size:100px;letter-spacing:0;white-space:nowrap";
              sample.textContent = document.querySelector("h1").textContent.replace(/[^\u4e00-\u9fff]/g, "");
              document.querySelector("main").appendChild(sample);
              const emsPerHan = sample.getBoundingClientRect().width / (100 * sample.textContent.length);
              sample.remove();
              const out = document.createElement("pre");
              out.id = "reader-probe";
              out.textContent = [width, Math.ceil(widest), document.documentElement.scrollWidth, drawn, emsPerHan.toFixed(3), offender].join("|");
              document.body.appendChild(out);
            })();
            </script>
            """;
        var probePath = Path.Combine(folder, "report-probe.html");
        await File.WriteAllTextAsync(probePath, html.Replace("</body>", Probe + "</body>", StringComparison.Ordinal), Ct);
        var dom = await RunChromiumAsync(chromium, "--dump-dom", "--window-size=794,1123", new Uri(probePath).AbsoluteUri);

        var found = System.Text.RegularExpressions.Regex.Match(dom, "<pre id=\"reader-probe\">([^<]*)</pre>");
        Assert.True(found.Success, "the probe script did not run in Chromium");
        var parts = found.Groups[1].Value.Split('|');
        var (width, widest, scrollWidth, drawn) = (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]), int.Parse(parts[3]));
        var emsPerHan = decimal.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(emsPerHan is >= 0.98m and <= 1.02m,
            $"the title's Han characters are {emsPerHan} em wide: they are not set in a CJK font (Debian: apt-get install -y fonts-noto-cjk)");
        var charts = System.Text.RegularExpressions.Regex.Count(html, "<svg[ >]");
        Assert.True(charts >= 3, $"the report should hold its charts; the HTML has {charts} svg elements");
        Assert.Equal(charts, drawn);
        Assert.True(scrollWidth <= width, $"the page scrolls sideways at A4 width: {scrollWidth} px wide in a {width} px window");
        Assert.True(widest <= width, $"{parts[5]} reaches {widest} px, beyond the {width} px of an A4-wide window");
    }

    /// <summary>
    /// Printed as the office would print it: A4 pages (the report's own <c>@page</c> rule), and the text a reader can
    /// copy from the PDF is the report's own.
    /// </summary>
    async Task PrintsOnA4PagesWithItsTextAsync(string chromium, string folder, string htmlPath)
    {
        var pdf = Path.Combine(folder, "report.pdf");
        File.Delete(pdf);
        await RunChromiumAsync(chromium, $"--print-to-pdf={pdf}", "--no-pdf-header-footer", new Uri(htmlPath).AbsoluteUri);

        var info = await Programs.RunAsync(Programs.Required("pdfinfo"), [pdf], Ct);
        Assert.Matches(@"Page size:\s+[\d.]+ x [\d.]+ pts \(A4\)", info);
        var pages = int.Parse(System.Text.RegularExpressions.Regex.Match(info, @"Pages:\s+(\d+)").Groups[1].Value);
        Assert.InRange(pages, 2, 40);

        var text = await Programs.RunAsync(Programs.Required("pdftotext"), ["-enc", "UTF-8", pdf, "-"], Ct);
        Assert.Contains("巡视整改", text);
        Assert.Contains("殡葬改革推行不力", text);
        TestContext.Current.SendDiagnosticMessage($"PDF written to {pdf} ({pages} A4 pages)");
    }

    /// <summary>Headless Chromium with a profile of its own, so that runs side by side do not share one, removed afterwards.</summary>
    static async Task<string> RunChromiumAsync(string chromium, params string[] arguments)
    {
        var profile = Directory.CreateTempSubdirectory("rectify-chromium-");
        try
        {
            return await Programs.RunAsync(chromium, [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-background-networking",
                $"--user-data-dir={profile.FullName}", .. arguments,
            ], Ct);
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
