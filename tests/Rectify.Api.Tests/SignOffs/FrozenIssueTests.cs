using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;
using static Rectify.Api.Tests.SignOffs.SignOffKit;

namespace Rectify.Api.Tests.SignOffs;

/// <summary>
/// The review of evidence entries (整改一项、审议一项), the freeze of a closed issue and its measures, reopening, and
/// consolidation (巩固) while today is on or before the accepted sign-off's watch-until date.
/// </summary>
public sealed class FrozenIssueTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SignOffKit _kit = new(app);
    IssueKit Issues => _kit.Issues;

    /// <summary>A closed issue whose measure is done with accepted evidence, watched until <paramref name="watchUntil"/>.</summary>
    async Task<(long Issue, long Measure, long Evidence)> ClosedAsync(string? watchUntil = null, string? round = null)
    {
        var (issue, measure, evidence) = await _kit.ReadyAsync(round);
        using (var accepted = await _kit.DecideEvidenceAsync(measure, evidence)) await accepted.ShouldBeAsync(HttpStatusCode.OK);
        await _kit.SubmitAsync(issue, evidence);
        using var closed = await Issues.CloseAsync(issue, watchUntil);
        await closed.ShouldBeAsync(HttpStatusCode.OK);
        return (issue, measure, evidence);
    }

    [Fact]
    public async Task An_evidence_decision_shows_on_the_entry_is_journaled_and_announced_but_not_by_its_submitter()
    {
        var (_, measure, evidence) = await _kit.ReadyAsync();
        using (var writer = await _kit.DecideEvidenceAsync(measure, evidence, by: await _kit.WriterAsync()))
            await writer.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"); // no review scope
        using (var own = await _kit.DecideEvidenceAsync(measure, evidence, by: Issues.Client))
            await own.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "separation-of-duties");
        var name = Seed.Unique("doer-reviewer");
        var both = app.ClientWith(await app.CreateClientAsync(name, [Scopes.Read, Scopes.Write, Scopes.Review]));
        var ownEntry = await _kit.EvidenceAsync(measure, both);
        using (var own = await _kit.DecideEvidenceAsync(measure, ownEntry, by: both))
            Assert.Contains(name, Text((await own.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "separation-of-duties"))["detail"]));
        using (var blank = await _kit.DecideEvidenceAsync(measure, evidence, comment: " "))
            await blank.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        using (var unknown = await _kit.DecideEvidenceAsync(measure, 999999))
            await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        var decidedAt = app.Clock.GetUtcNow().UtcDateTime; // the class's clock: another test of the class may have moved it
        using var decided = await _kit.DecideEvidenceAsync(measure, evidence, "rejected", comment: "文号缺失。");
        var entry = await decided.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("rejected", Text(entry["status"]));
        var reviewer = Text(entry["decidedBy"]);
        Assert.NotEqual(RectifyApp.ClientName, reviewer);

        using var read = await Issues.Client.GetAsync($"/api/v1/measures/{measure}", TestContext.Current.CancellationToken);
        var shown = (await read.ShouldBeAsync(HttpStatusCode.OK))["evidence"]!.AsArray();
        Assert.Equal(["rejected", "submitted"], shown.Select(e => Text(e!["status"])));
        Assert.Equal("文号缺失。", Text(shown[0]!["decisionComment"]));
        Assert.Equal(decidedAt, shown[0]!["decidedAt"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.Equal(decided.ETag(), read.ETag());

        var journal = (await _kit.JournalAsync("measure", measure)).Last()!;
        Assert.Equal("evidence-decided", Text(journal["action"]));
        Assert.Equal("rejected", Text(journal["after"]!["status"]));
        Assert.Equal(1, await _kit.EventsAsync("measure.evidence-decided", "evidence,id", evidence));
    }

    static ByteArrayContent PdfBody()
    {
        var content = new ByteArrayContent("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"u8.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
        return content;
    }

    [Fact]
    public async Task Every_change_under_a_closed_issue_is_refused_naming_the_closure()
    {
        var (issue, measure, evidence) = await ClosedAsync();
        var (closed, issueEtag) = await Issues.ReadAsync(issue);
        using var read = await Issues.Client.GetAsync($"/api/v1/measures/{measure}", TestContext.Current.CancellationToken);
        var body = await read.ShouldBeAsync(HttpStatusCode.OK);
        var measureEtag = read.ETag();
        var reviewer = await Issues.ReviewerAsync();
        var journal = await _kit.CountAsync("SELECT count(*) FROM journal", new { });

        var attempts = new (string What, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("issue edit", () => Issues.Client.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(closed, "closed", title: "改标题"), issueEtag)),
            ("issue deadline", () => Issues.Client.PostJsonAsync($"/api/v1/issues/{issue}/deadline", new { dueDate = "2026-06-30", reason = "顺延" })),
            ("submission", () => Issues.SubmitAsync(issue, evidence)),
            ("measure create", () => Issues.Client.PostJsonAsync("/api/v1/measures", new
            {
                issueId = issue, code = Seed.Unique("M"), title = "补充措施", ownerUnit = "HNMZT.SHSW", dueDate = "2025-12-31",
            })),
            ("measure update", () => Issues.Client.PutJsonAsync($"/api/v1/measures/{measure}", IssueKit.MeasureBody(body, "in_progress"), measureEtag)),
            ("progress", () => Issues.Client.PostJsonAsync($"/api/v1/measures/{measure}/progress", new { reportedOn = "2025-06-15", percent = 100 })),
            ("evidence", () => Issues.Client.PostJsonAsync($"/api/v1/measures/{measure}/evidence", new { title = "补充材料" })),
            ("measure deadline", () => Issues.Client.PostJsonAsync($"/api/v1/measures/{measure}/deadline", new { dueDate = "2026-06-30", reason = "顺延" })),
            ("evidence decision", () => _kit.DecideEvidenceAsync(measure, evidence, "rejected", reviewer)),
            ("evidence file", () => Issues.Client.PutAsync($"/api/v1/measures/{measure}/evidence/{evidence}/file", PdfBody())),
        };
        foreach (var (what, send) in attempts)
        {
            using var response = await send();
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "issue-closed");
            Assert.True(issue == problem["closedIssue"]!.GetValue<long>(), what);
            Assert.Contains($"/api/v1/issues/{issue}/reopen", Text(problem["detail"]));
            Assert.Contains(IssueKit.Iso(Issues.Today), Text(problem["detail"]));
        }

        Assert.Equal(journal, await _kit.CountAsync("SELECT count(*) FROM journal", new { }));
        Assert.Equal(issueEtag, (await Issues.ReadAsync(issue)).ETag);
    }

    [Fact]
    public async Task Reopening_needs_the_review_scope_and_a_reason_unfreezes_the_issue_and_is_journaled()
    {
        var (issue, measure, _) = await ClosedAsync(IssueKit.Iso(Issues.Today.AddDays(90)));
        var reviewer = await Issues.ReviewerAsync();
        using (var writer = await (await _kit.WriterAsync()).PostJsonAsync($"/api/v1/issues/{issue}/reopen", new { reason = "问题反弹" }))
            await writer.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using (var noReason = await reviewer.PostJsonAsync($"/api/v1/issues/{issue}/reopen", new { reason = "" }))
            await noReason.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");

        using var reopened = await reviewer.PostJsonAsync($"/api/v1/issues/{issue}/reopen", new { reason = "回头看发现问题反弹，重新整改。" });
        var issueBody = await reopened.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("in_progress", IssueKit.State(issueBody));
        Assert.Null(issueBody["closure"]);
        Assert.False(issueBody["consolidating"]!.GetValue<bool>());
        var entry = (await _kit.JournalAsync("issue", issue)).Last()!;
        Assert.Equal("reopen", Text(entry["action"]));
        Assert.Equal("回头看发现问题反弹，重新整改。", Text(entry["after"]!["reason"]));
        Assert.Equal("closed", Text(entry["before"]!["state"]));
        // The sign-off that closed it stays on record.
        Assert.Equal("accepted", Text((await Issues.Client.GetJsonAsync($"/api/v1/issues/{issue}/sign-offs")).AsArray().Last()!["status"]));

        using (var again = await reviewer.PostJsonAsync($"/api/v1/issues/{issue}/reopen", new { reason = "再次" }))
            await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        await Issues.SetMeasureStateAsync(measure, "in_progress");
        using var evidence = await Issues.Client.PostJsonAsync($"/api/v1/measures/{measure}/evidence", new { title = "补充材料" });
        await evidence.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_issue_is_consolidating_while_today_is_on_or_before_its_watch_date()
    {
        var round = await Issues.Seed.RoundAsync();
        var (watched, _, _) = await ClosedAsync(IssueKit.Iso(Issues.Today), round);
        var (unwatched, _, _) = await ClosedAsync(round: round);
        var (working, _, _) = await _kit.ReadyAsync(round);

        async Task<long[]> ListedAsync(string filter) => IssueKit.Ids(await Issues.Client.GetJsonAsync($"/api/v1/issues?round={round}{filter}"));

        Assert.True((await Issues.ReadAsync(watched)).Issue["consolidating"]!.GetValue<bool>());
        Assert.False((await Issues.ReadAsync(unwatched)).Issue["consolidating"]!.GetValue<bool>());
        Assert.Equal([watched], await ListedAsync("&consolidating=true"));
        Assert.Equal([unwatched, working], await ListedAsync("&consolidating=false"));

        var dashboard = await Issues.Client.GetJsonAsync($"/api/v1/rounds/{round}/dashboard");
        Assert.Equal(1, dashboard["totals"]!["consolidatingIssues"]!.GetValue<int>());

        app.Clock.Advance(TimeSpan.FromDays(1)); // the day after the watch date
        Assert.Empty(await ListedAsync("&consolidating=true"));
        Assert.False((await Issues.ReadAsync(watched)).Issue["consolidating"]!.GetValue<bool>());
    }
}
