using System.Net;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;
using Rectify.Api.Tests.Report;

namespace Rectify.Api.Tests.SignOffs;

/// <summary>
/// 审议一项、销号一项、巩固一项 as the month reports it: the snapshot counts the month's submissions and decisions and the
/// issues under consolidation, and the report's 审议销号 paragraph states them with each watched issue's date.
/// </summary>
public sealed class SignOffReportingTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SignOffKit _kit = new(app);
    IssueKit Issues => _kit.Issues;

    [Fact]
    public async Task The_months_submissions_and_decisions_are_counted_in_the_snapshot_and_stated_in_the_report()
    {
        var round = await Issues.Seed.RoundAsync();
        var (accepted, measure, evidence) = await _kit.ReadyAsync(round);
        using (var decided = await _kit.DecideEvidenceAsync(measure, evidence)) await decided.ShouldBeAsync(HttpStatusCode.OK);
        await _kit.SubmitAsync(accepted, evidence);
        using (var closed = await Issues.CloseAsync(accepted, "2025-09-30")) await closed.ShouldBeAsync(HttpStatusCode.OK);
        var (returned, _, returnedEvidence) = await _kit.ReadyAsync(round);
        await _kit.SubmitAsync(returned, returnedEvidence);
        using (var back = await Issues.DecideAsync(returned, "request_changes", "请补充佐证材料。")) await back.ShouldBeAsync(HttpStatusCode.OK);
        var (pending, _, pendingEvidence) = await _kit.ReadyAsync(round);
        await _kit.SubmitAsync(pending, pendingEvidence);

        // Today is 2025-06-15 in Shanghai: every submission and decision above is dated in June.
        using (var pushed = await _kit.Client.PutJsonAsync($"/api/v1/rounds/{round}/snapshots/2025-06", new { narrative = "六月整改进展" }, ifMatch: null))
            await pushed.ShouldBeAsync(HttpStatusCode.OK);
        var snapshot = await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round}/snapshots/2025-06");
        var signOffs = snapshot["content"]!["summary"]!["signOffs"]!;
        Assert.Equal(3, signOffs["submittedThisMonth"]!.GetValue<int>());
        Assert.Equal(1, signOffs["acceptedThisMonth"]!.GetValue<int>());
        Assert.Equal(1, signOffs["returnedThisMonth"]!.GetValue<int>());
        Assert.Equal(1, signOffs["consolidating"]!.GetValue<int>());

        var code = (await Issues.ReadAsync(accepted)).Issue["code"]!.GetValue<string>();
        var markdown = await _kit.Client.MarkdownAsync(round, "2025-06");
        Assert.Contains("审议销号：2025年6月提交销号申请3件，审议同意销号1件、退回1件；累计已销号1个，处于巩固期1个：", markdown);
        Assert.Contains($"{code} ", markdown);
        Assert.Contains("（巩固至2025年9月30日）", markdown);
    }
}
