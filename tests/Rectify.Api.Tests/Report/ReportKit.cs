using System.Net;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Report;

/// <summary>Calls and checks the progress-report tests share.</summary>
public static partial class ReportKit
{
    public const string Round = "HN-8-6-6";

    /// <summary>2025-11-05 10:00 in Shanghai, the reference report's date: October is over and may be published.</summary>
    public static readonly DateTimeOffset ReportDay = new(2025, 11, 5, 2, 0, 0, TimeSpan.Zero);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static string Url(string round, string? period, string? format = null)
    {
        var query = new List<string>();
        if (period is not null) query.Add("period=" + Uri.EscapeDataString(period));
        if (format is not null) query.Add("format=" + Uri.EscapeDataString(format));
        return $"/api/v1/rounds/{Uri.EscapeDataString(round)}/report" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
    }

    /// <summary>Moves the app's clock forward to <see cref="ReportDay"/> (a fake clock never goes back).</summary>
    public static void AtReportDay(this RectifyApp app)
    {
        if (app.Clock.GetUtcNow() < ReportDay) app.Clock.SetUtcNow(ReportDay);
    }

    /// <summary>GETs a report, asserting 200 and the media type, and returns the answer and its text.</summary>
    public static async Task<(HttpResponseMessage Response, string Text)> ReportAsync(this HttpClient client, string round, string period, string format = "html")
    {
        var response = await client.GetAsync(Url(round, period, format), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200 but got {(int)response.StatusCode}: {text}");
        Assert.Equal(format == "md" ? "text/markdown" : "text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        return (response, text);
    }

    public static Task<string> HtmlAsync(this HttpClient client, string round, string period) => TextAsync(client, round, period, "html");

    public static Task<string> MarkdownAsync(this HttpClient client, string round, string period) => TextAsync(client, round, period, "md");

    static async Task<string> TextAsync(HttpClient client, string round, string period, string format)
    {
        var (response, text) = await client.ReportAsync(round, period, format);
        response.Dispose();
        return text;
    }

    /// <summary>
    /// Parses the page strictly as XML (the renderer closes every element, void ones included), which proves the tags
    /// balance, attributes are quoted and no stray &amp; or &lt; is left in the text.
    /// </summary>
    public static XDocument Parse(string html)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null };
        using var reader = XmlReader.Create(new StringReader(html), settings);
        return XDocument.Load(reader);
    }

    /// <summary>
    /// Asserts that the page loads and runs nothing: no script, no embedded or linked resource, no event handler, no URL
    /// in src or href; and, unless the data itself holds URLs as text, no URL anywhere in the page or its CSS.
    /// </summary>
    public static void LoadsNothing(string html, XDocument page, bool dataHoldsUrls = false)
    {
        Assert.DoesNotContain(page.Descendants(), e => e.Name.LocalName is "script" or "link" or "iframe" or "object" or "embed" or "img");
        var references = page.Descendants().Attributes()
            .Where(a => a.Name.LocalName is "src" or "href" or "srcset" or "action" || a.Name.LocalName.StartsWith("on", StringComparison.OrdinalIgnoreCase))
            .Select(a => $"{a.Name}={a.Value}").ToList();
        Assert.Empty(references);
        Assert.DoesNotContain("url(", page.Descendants().Single(e => e.Name.LocalName == "style").Value, StringComparison.OrdinalIgnoreCase);
        if (dataHoldsUrls) return;
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The visible text of the page, whitespace collapsed, for checks on what a reader sees.</summary>
    public static string VisibleText(XDocument page)
        => Spaces().Replace(string.Concat(page.Descendants().Where(e => e.Name.LocalName == "body").Single().DescendantNodes().OfType<XText>()
            .Where(t => t.Parent?.Name.LocalName is not ("style" or "title")).Select(t => t.Value + " ")), " ");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>Asserts the Markdown is plain and diff-friendly: LF only, no trailing spaces or tabs, one final newline.</summary>
    public static void IsPlainMarkdown(string md)
    {
        Assert.DoesNotContain('\r', md);
        Assert.DoesNotContain('\t', md);
        Assert.EndsWith("\n", md);
        Assert.False(md.EndsWith("\n\n", StringComparison.Ordinal), "blank lines at the end");
        var lines = md.Split('\n');
        Assert.All(lines.Select((line, i) => (line, i)), l => Assert.True(l.line == l.line.TrimEnd(), $"line {l.i + 1} has trailing spaces: '{l.line}'"));
        Assert.DoesNotContain("\n\n\n", md);
    }

    /// <summary>The titles of the round's problem areas (top-level issues), read through the issues endpoint.</summary>
    public static async Task<string[]> AreaTitlesAsync(this HttpClient client, string round)
    {
        var page = await client.GetJsonAsync($"/api/v1/issues?round={Uri.EscapeDataString(round)}&topLevel=true&limit=200");
        return page["items"]!.AsArray().Select(i => i!["title"]!.GetValue<string>()).ToArray();
    }
}
