using System.Net;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Report;

/// <summary>
/// The report says plainly what its figures are: the latest published revision, else the latest draft, else live data.
/// One story on the reference case, in order: preview, pushed draft, published, a draft correction above it.
/// </summary>
public sealed class ReportStatusTests : IClassFixture<RectifyAppWithDemoData>
{
    const string Period = "2025-10";
    const string Narrative = "10月，专班召开会议通报整改进展，对推进缓慢的事项及时提醒预警。\n下一步，持续推进殡葬基础设施建设。";
    readonly RectifyAppWithDemoData _app;
    readonly HttpClient _client;

    public ReportStatusTests(RectifyAppWithDemoData app)
    {
        _app = app;
        app.AtReportDay();
        _client = app.Client();
    }

    static string SnapshotUrl(string suffix = "") => $"/api/v1/rounds/{ReportKit.Round}/snapshots/{Period}{suffix}";

    async Task<(string Html, string Md)> BothAsync() => (await _client.HtmlAsync(ReportKit.Round, Period), await _client.MarkdownAsync(ReportKit.Round, Period));

    [Fact]
    public async Task Preview_then_draft_then_published_then_a_correction_in_draft()
    {
        var (html, md) = await BothAsync();
        Assert.Contains("实时数据预览（未形成快照）", html);
        Assert.Contains("**数据状态：实时数据预览（未形成快照）**", md);

        using (var push = await _client.PutJsonAsync(SnapshotUrl(), new { narrative = Narrative }, ifMatch: null)) await push.ShouldBeAsync(HttpStatusCode.OK);
        (html, md) = await BothAsync();
        Assert.Contains("数据状态：草稿（未发布）", html);
        Assert.Contains("**数据状态：草稿（未发布）**", md);
        Assert.DoesNotContain("实时数据预览", md);
        // The snapshot's narrative closes the report, one paragraph per line.
        Assert.Contains("<p>10月，专班召开会议通报整改进展，对推进缓慢的事项及时提醒预警。</p>\n<p>下一步，持续推进殡葬基础设施建设。</p>", html);
        Assert.Contains("\n10月，专班召开会议通报整改进展，对推进缓慢的事项及时提醒预警。\n\n下一步，持续推进殡葬基础设施建设。\n", md);

        using (var publish = await _client.PostJsonAsync(SnapshotUrl("/publish"), new { note = "专班会议审定" })) await publish.ShouldBeAsync(HttpStatusCode.OK);
        var (response, published) = await _client.ReportAsync(ReportKit.Round, Period);
        using (response)
        {
            Assert.True(response.Headers.CacheControl?.Private, "a keyed answer is private");
            Assert.Equal(TimeSpan.FromMinutes(5), response.Headers.CacheControl?.MaxAge);
        }
        Assert.Contains("数据状态：已发布（第1版，2025年11月5日发布）", published);
        md = await _client.MarkdownAsync(ReportKit.Round, Period);
        Assert.Contains("**数据状态：已发布（第1版，2025年11月5日发布）**", md);
        // Signed by the inspected unit on the day of publication, as the reference report is.
        Assert.Contains("\n---\n\n海南省民政厅\n2025年11月5日\n", md);
        // The trend shows the published month as final (a filled point).
        Assert.Contains("各月取该月已发布快照", md);

        // A correction pushed after publication is a draft above the published revision: the report stays on revision 1.
        using (var correction = await _client.PutJsonAsync(SnapshotUrl(), new { narrative = "更正后的说明", revisionReason = "更正统计口径" }, ifMatch: null))
            await correction.ShouldBeAsync(HttpStatusCode.OK);
        md = await _client.MarkdownAsync(ReportKit.Round, Period);
        Assert.Contains("**数据状态：已发布（第1版，2025年11月5日发布）**", md);
        Assert.DoesNotContain("更正后的说明", md);
    }

    [Fact]
    public async Task Without_a_key_the_report_is_refused()
    {
        using var response = await _app.ClientWith(null).GetAsync(ReportKit.Url(ReportKit.Round, Period), TestContext.Current.CancellationToken);
        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }
}
