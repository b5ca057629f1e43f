using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;
using static Rectify.Api.Tests.SignOffs.SignOffKit;

namespace Rectify.Api.Tests.SignOffs;

/// <summary>
/// Sign-off review (审议 / 销号): the unit submits an issue with the evidence it rests on, another client decides; accepting
/// closes the issue only when every measure is finished, every sub-issue closed and every done measure has accepted
/// evidence; every step is kept, journaled and announced. Today is 2025-06-15 in Shanghai (the fixed clock).
/// </summary>
public sealed class SignOffReviewTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SignOffKit _kit = new(app);
    IssueKit Issues => _kit.Issues;

    [Fact]
    public async Task A_submission_keeps_its_evidence_moves_the_issue_to_review_and_is_listed_journaled_and_announced()
    {
        var (issue, measure, evidence) = await _kit.ReadyAsync();
        for (var version = 1; version <= 2; version++)
        {
            using var pdf = new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes($"%PDF-1.7\n% version {version}\n%%EOF\n"));
            pdf.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
            using var uploaded = await Issues.Client.PutAsync($"/api/v1/measures/{measure}/evidence/{evidence}/file", pdf, TestContext.Current.CancellationToken);
            await uploaded.ShouldBeAsync(HttpStatusCode.Created);
        }
        using (var unknownVersion = await Issues.Client.PostJsonAsync($"/api/v1/issues/{issue}/sign-offs",
            new { summary = "申请销号。", evidence = new[] { new { evidenceId = evidence, fileVersion = (int?)3 } } }))
        {
            var problem = await unknownVersion.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
            Assert.Contains($"Evidence {evidence} has no file version 3", Text(problem["errors"]!["evidence"]![0]));
        }
        using var submitted = await Issues.Client.PostJsonAsync($"/api/v1/issues/{issue}/sign-offs",
            new { summary = "整改措施已全部完成，申请销号。", evidence = new[] { new { evidenceId = evidence, fileVersion = (int?)2 } } });
        var signOff = await submitted.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal("pending", Text(signOff["status"]));
        Assert.Equal(RectifyApp.ClientName, Text(signOff["submittedBy"]));
        Assert.Equal(evidence, signOff["evidence"]![0]!["evidenceId"]!.GetValue<long>());
        Assert.Equal(2, signOff["evidence"]![0]!["fileVersion"]!.GetValue<int>());
        Assert.Null(signOff["decidedBy"]);
        var (read, etag) = await Issues.ReadAsync(issue);
        Assert.Equal("pending_review", IssueKit.State(read));
        Assert.Equal(submitted.ETag(), etag);

        var listed = (await Issues.Client.GetJsonAsync($"/api/v1/issues/{issue}/sign-offs")).AsArray();
        Assert.Equal(IssueKit.Id(signOff), IssueKit.Id(Assert.Single(listed)!));
        Assert.Equal("sign-off-submitted", Text((await _kit.JournalAsync("issue", issue)).Last()!["action"]));
        Assert.Equal(1, await _kit.EventsAsync("issue.sign-off-submitted", "signOff,issueId", issue));
        Assert.Equal(1, await _kit.CountAsync("SELECT count(*) FROM changes WHERE entity = 'sign-off' AND (key ->> 'issueId')::bigint = @issue", new { issue }));
    }

    [Fact]
    public async Task A_submission_naming_evidence_of_another_issue_or_an_entry_twice_is_refused_and_changes_nothing()
    {
        var (issue, _, evidence) = await _kit.ReadyAsync();
        var (_, _, foreign) = await _kit.ReadyAsync();
        using (var other = await Issues.SubmitAsync(issue, evidence, foreign))
        {
            var problem = await other.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
            Assert.Contains(foreign.ToString(System.Globalization.CultureInfo.InvariantCulture), Text(problem["errors"]!["evidence"]![0]));
        }
        using (var twice = await Issues.SubmitAsync(issue, evidence, evidence))
            await twice.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        using (var empty = await Issues.Client.PostJsonAsync($"/api/v1/issues/{issue}/sign-offs", new { summary = "" }))
            await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Equal("in_progress", IssueKit.State((await Issues.ReadAsync(issue)).Issue));
        Assert.Empty((await Issues.Client.GetJsonAsync($"/api/v1/issues/{issue}/sign-offs")).AsArray());
    }

    [Fact]
    public async Task A_client_cannot_decide_on_its_own_submission_nor_without_the_review_scope()
    {
        var (issue, measure, evidence) = await _kit.ReadyAsync();
        var name = Seed.Unique("all-in-one");
        var both = app.ClientWith(await app.CreateClientAsync(name, [Scopes.Read, Scopes.Write, Scopes.Review]));
        using (var accepted = await _kit.DecideEvidenceAsync(measure, evidence)) await accepted.ShouldBeAsync(HttpStatusCode.OK);
        using (var submitted = await both.PostJsonAsync($"/api/v1/issues/{issue}/sign-offs", new { summary = "申请销号" }))
            await submitted.ShouldBeAsync(HttpStatusCode.Created);

        foreach (var decision in new[] { "accept", "reject", "request_changes" })
        {
            using var own = await Issues.DecideAsync(issue, decision, reviewer: both);
            var problem = await own.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "separation-of-duties");
            Assert.Contains(name, Text(problem["detail"]));
        }
        using (var writer = await Issues.DecideAsync(issue, "accept", reviewer: await _kit.WriterAsync()))
            await writer.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("pending_review", IssueKit.State((await Issues.ReadAsync(issue)).Issue));

        using var other = await Issues.DecideAsync(issue, "accept");
        await other.ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Accepting_is_blocked_by_each_unfinished_measure_open_sub_issue_and_done_measure_without_accepted_evidence()
    {
        var round = await Issues.Seed.RoundAsync();
        var (issue, done, evidence) = await _kit.ReadyAsync(round);
        var running = IssueKit.Id(await Issues.Seed.MeasureAsync(issue, code: "9.2"));
        var cancelled = IssueKit.Id(await Issues.Seed.MeasureAsync(issue, code: "9.3"));
        await Issues.SetMeasureStateAsync(cancelled, "cancelled", cancelReason: "与措施9.1合并实施");
        var child = IssueKit.Id(await Issues.Seed.IssueAsync(round, parentId: issue));
        using (var rejected = await _kit.DecideEvidenceAsync(done, evidence, "rejected")) await rejected.ShouldBeAsync(HttpStatusCode.OK);
        await _kit.SubmitAsync(issue, evidence);
        var journal = await Issues.JournalCountAsync(issue);

        async Task<JsonNode> BlockedAsync()
        {
            using var blocked = await Issues.CloseAsync(issue);
            return await blocked.ShouldBeProblemAsync(HttpStatusCode.Conflict, "closing-blocked");
        }
        static long[] Ids(JsonNode problem, string list) => problem[list]!.AsArray().Select(i => IssueKit.Id(i!)).ToArray();

        var problem = await BlockedAsync();
        Assert.Equal([running], Ids(problem, "blockingMeasures"));
        Assert.Equal([child], Ids(problem, "blockingSubIssues"));
        Assert.Equal([done], Ids(problem, "measuresWithoutAcceptedEvidence")); // a rejected entry does not count

        await Issues.SetMeasureStateAsync(running, "cancelled", cancelReason: "政策调整");
        problem = await BlockedAsync();
        Assert.Empty(Ids(problem, "blockingMeasures"));
        Assert.Equal([child], Ids(problem, "blockingSubIssues"));

        await Issues.MoveAsync(child, "in_progress");
        await Issues.MoveAsync(child, "pending_review");
        await Issues.MoveAsync(child, "closed");
        problem = await BlockedAsync();
        Assert.Equal([done], Ids(problem, "measuresWithoutAcceptedEvidence"));
        Assert.Empty(Ids(problem, "blockingSubIssues"));

        Assert.Equal(journal, await Issues.JournalCountAsync(issue));
        Assert.Equal("pending_review", IssueKit.State((await Issues.ReadAsync(issue)).Issue));
        using (var accepted = await _kit.DecideEvidenceAsync(done, evidence)) await accepted.ShouldBeAsync(HttpStatusCode.OK);
        using var closed = await Issues.CloseAsync(issue);
        await closed.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("closed", IssueKit.State((await Issues.ReadAsync(issue)).Issue));
    }

    [Fact]
    public async Task Accepting_closes_the_issue_with_the_reviewer_comment_and_watch_date_once_journaled_and_announced()
    {
        var (issue, measure, evidence) = await _kit.ReadyAsync();
        using (var accepted = await _kit.DecideEvidenceAsync(measure, evidence)) await accepted.ShouldBeAsync(HttpStatusCode.OK);
        var submitted = await _kit.SubmitAsync(issue, evidence);
        var watchUntil = IssueKit.Iso(Issues.Today.AddMonths(6));

        using var decided = await Issues.CloseAsync(issue, watchUntil, "整改到位，同意销号，巩固半年。");
        var signOff = await decided.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("accepted", Text(signOff["status"]));
        var reviewer = Text(signOff["decidedBy"]);
        Assert.NotEqual(RectifyApp.ClientName, reviewer);
        Assert.Equal(watchUntil, Text(signOff["watchUntil"]));
        Assert.Equal(RectifyApp.Start.UtcDateTime, signOff["decidedAt"]!.GetValue<DateTime>().ToUniversalTime());

        var (closed, etag) = await Issues.ReadAsync(issue);
        Assert.Equal(decided.ETag(), etag);
        Assert.Equal("closed", IssueKit.State(closed));
        Assert.Equal(reviewer, Text(closed["closure"]!["reviewer"]));
        Assert.Equal(IssueKit.Iso(Issues.Today), Text(closed["closure"]!["closedOn"]));
        Assert.Equal("整改到位，同意销号，巩固半年。", Text(closed["closure"]!["conclusion"]));
        Assert.Equal(watchUntil, Text(closed["closure"]!["watchUntil"]));
        Assert.True(closed["consolidating"]!.GetValue<bool>());

        var journal = await _kit.JournalAsync("issue", issue);
        var entry = journal.Last()!;
        Assert.Equal("sign-off-decided", Text(entry["action"]));
        Assert.Equal(reviewer, Text(entry["actor"]));
        Assert.Equal("accepted", Text(entry["after"]!["signOff"]!["status"]));
        Assert.Equal(1, await _kit.EventsAsync("issue.sign-off-decided", "signOff,id", IssueKit.Id(submitted)));
        Assert.Equal(1, await _kit.CountAsync(
            "SELECT count(*) FROM changes WHERE entity = 'sign-off' AND entity_id = @id AND operation = 'updated'",
            new { id = IssueKit.Id(submitted).ToString(System.Globalization.CultureInfo.InvariantCulture) }));

        var reviewerClient = await Issues.ReviewerAsync();
        using var again = await reviewerClient.PostJsonAsync($"/api/v1/issues/{issue}/sign-offs/{IssueKit.Id(submitted)}/decision",
            new { decision = "reject", comment = "再议" });
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "issue-closed");
    }

    [Theory]
    [InlineData("reject", "rejected")]
    [InlineData("request_changes", "changes_requested")]
    public async Task Rejecting_or_requesting_changes_returns_the_issue_to_work_and_a_new_submission_can_follow(string decision, string status)
    {
        var (issue, _, evidence) = await _kit.ReadyAsync();
        var first = await _kit.SubmitAsync(issue, evidence);
        using (var decided = await Issues.DecideAsync(issue, decision, "佐证材料不足，请补充。"))
            Assert.Equal(status, Text((await decided.ShouldBeAsync(HttpStatusCode.OK))["status"]));
        var (back, _) = await Issues.ReadAsync(issue);
        Assert.Equal("in_progress", IssueKit.State(back));
        Assert.Null(back["closure"]);

        var reviewer = await Issues.ReviewerAsync();
        using (var decidedTwice = await reviewer.PostJsonAsync($"/api/v1/issues/{issue}/sign-offs/{IssueKit.Id(first)}/decision",
                   new { decision = "accept", comment = "同意" }))
            await decidedTwice.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");

        await _kit.SubmitAsync(issue, evidence);
        var listed = (await Issues.Client.GetJsonAsync($"/api/v1/issues/{issue}/sign-offs")).AsArray();
        Assert.Equal([status, "pending"], listed.Select(s => Text(s!["status"])));
        Assert.Equal("佐证材料不足，请补充。", Text(listed[0]!["decisionComment"]));
    }

    [Fact]
    public async Task A_decision_needs_a_comment_and_watch_until_only_with_accept_not_in_the_past()
    {
        var (issue, _, evidence) = await _kit.ReadyAsync();
        await _kit.SubmitAsync(issue, evidence);
        using (var blank = await Issues.DecideAsync(issue, "reject", "  "))
            await blank.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        using (var rejectWatch = await Issues.DecideAsync(issue, "reject", "退回", watchUntil: IssueKit.Iso(Issues.Today.AddDays(30))))
            await rejectWatch.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        using (var past = await Issues.DecideAsync(issue, "accept", watchUntil: IssueKit.Iso(Issues.Today.AddDays(-1))))
            await past.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        using (var unknown = await (await Issues.ReviewerAsync()).PostJsonAsync($"/api/v1/issues/{issue}/sign-offs/999999/decision",
                   new { decision = "accept", comment = "同意" }))
            await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal("pending_review", IssueKit.State((await Issues.ReadAsync(issue)).Issue));
    }

    [Fact]
    public async Task A_unit_limited_client_submits_only_for_its_units_issues_and_decides_only_on_them()
    {
        var (issue, _, evidence) = await _kit.ReadyAsync(); // led by HNMZT.SHSW
        var shjz = app.ClientWith(await app.CreateClientAsync(Seed.Unique("HNMZT.SHJZ"), [Scopes.Read, Scopes.Write, Scopes.Review], units: ["HNMZT.SHJZ"]));
        using (var submit = await shjz.PostJsonAsync($"/api/v1/issues/{issue}/sign-offs", new { summary = "越权申请" }))
            Assert.Contains("'HNMZT.SHSW'", Text((await submit.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]));
        Assert.Equal("in_progress", IssueKit.State((await Issues.ReadAsync(issue)).Issue));

        await _kit.SubmitAsync(issue, evidence);
        using (var decide = await Issues.DecideAsync(issue, "reject", "退回", reviewer: shjz))
            await decide.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("pending_review", IssueKit.State((await Issues.ReadAsync(issue)).Issue));
    }
}
