using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>Sign-off (销号): what blocks it, what it records, and what it freezes.</summary>
public sealed class IssueClosingTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);
    HttpClient Client => _kit.Client;
    Seed Seed => _kit.Seed;

    [Fact]
    public async Task Closing_an_issue_with_unfinished_measures_is_refused_and_lists_them()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var planned = IssueKit.Id(await Seed.MeasureAsync(id, code: "1.1"));
        var inProgress = IssueKit.Id(await Seed.MeasureAsync(id, code: "1.2"));
        var done = IssueKit.Id(await Seed.MeasureAsync(id, code: "1.3"));
        var cancelled = IssueKit.Id(await Seed.MeasureAsync(id, code: "1.4"));
        await _kit.ReportProgressAsync(inProgress, 40);
        await _kit.SetMeasureStateAsync(done, "done");
        await _kit.SetMeasureStateAsync(cancelled, "cancelled", cancelReason: "与措施1.1合并实施");
        await _kit.MoveAsync(id, "in_progress");
        await _kit.MoveAsync(id, "pending_review");
        var (_, etag) = await _kit.ReadAsync(id);
        var journal = await _kit.JournalCountAsync(id);

        using var response = await _kit.CloseAsync(id);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "closing-blocked");
        var blocking = problem["blockingMeasures"]!.AsArray();
        Assert.Equal([planned, inProgress], blocking.Select(m => IssueKit.Id(m!)));
        Assert.Equal(["1.1", "1.2"], blocking.Select(m => m!["code"]!.GetValue<string>()));
        Assert.Equal(["planned", "in_progress"], blocking.Select(m => IssueKit.State(m!)));
        Assert.All(blocking, m => Assert.Equal("整治殡葬乱象", m!["title"]!.GetValue<string>()));
        Assert.Empty(problem["blockingSubIssues"]!.AsArray());

        var (issue, etagAfter) = await _kit.ReadAsync(id);
        Assert.Equal("pending_review", IssueKit.State(issue));
        Assert.Null(issue["closure"]);
        Assert.Equal(etag, etagAfter);
        Assert.Equal(journal, await _kit.JournalCountAsync(id));
    }

    [Fact]
    public async Task Closing_succeeds_once_every_measure_is_done_or_cancelled_with_a_reason()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var first = IssueKit.Id(await Seed.MeasureAsync(id));
        var second = IssueKit.Id(await Seed.MeasureAsync(id));
        await _kit.ReportProgressAsync(second, 30);
        await _kit.MoveAsync(id, "in_progress");
        await _kit.MoveAsync(id, "pending_review");

        using (var blocked = await _kit.CloseAsync(id))
        {
            var problem = await blocked.ShouldBeProblemAsync(HttpStatusCode.Conflict, "closing-blocked");
            Assert.Equal([first, second], problem["blockingMeasures"]!.AsArray().Select(m => IssueKit.Id(m!)));
        }

        await _kit.SetMeasureStateAsync(first, "done");
        await _kit.AcceptedEvidenceAsync(first);
        using (var stillBlocked = await _kit.CloseAsync(id))
        {
            var problem = await stillBlocked.ShouldBeProblemAsync(HttpStatusCode.Conflict, "closing-blocked");
            Assert.Equal([second], problem["blockingMeasures"]!.AsArray().Select(m => IssueKit.Id(m!)));
        }

        var cancelledMeasure = await _kit.SetMeasureStateAsync(second, "cancelled", cancelReason: "政策调整，措施不再实施");
        Assert.Equal("政策调整，措施不再实施", cancelledMeasure["cancelReason"]!.GetValue<string>());

        using var closed = await _kit.CloseAsync(id);
        Assert.Equal("accepted", (await closed.ShouldBeAsync(HttpStatusCode.OK))["status"]!.GetValue<string>());
        var (issue, _) = await _kit.ReadAsync(id);
        Assert.Equal("closed", IssueKit.State(issue));
        Assert.Empty(issue["allowedTransitions"]!.AsArray());
    }

    [Fact]
    public async Task Closing_records_reviewer_date_conclusion_and_the_review_request()
    {
        var round = await Seed.RoundAsync();
        var id = await _kit.IssueInStateAsync(round, "in_progress");
        app.Clock.Advance(TimeSpan.FromMinutes(5));
        var reviewedAt = app.Clock.GetUtcNow().UtcDateTime;
        using (var review = await _kit.ReviewAsync(id, note: "各项措施已完成，制度已印发，申请销号。"))
        {
            var pending = await review.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal("pending_review", IssueKit.State(pending));
            Assert.Equal(RectifyApp.ClientName, pending["review"]!["requestedBy"]!.GetValue<string>());
            Assert.Equal("各项措施已完成，制度已印发，申请销号。", pending["review"]!["note"]!.GetValue<string>());
            Assert.Equal(reviewedAt, pending["review"]!["requestedAt"]!.GetValue<DateTime>().ToUniversalTime());
            Assert.Null(pending["closure"]);
        }

        app.Clock.Advance(TimeSpan.FromMinutes(5));
        var closedAt = app.Clock.GetUtcNow().UtcDateTime;
        var closedOn = IssueKit.Iso(_kit.Today);
        using var close = await _kit.CloseAsync(id, comment: "经审议，整改到位，同意销号。");
        var decided = await close.ShouldBeAsync(HttpStatusCode.OK);
        var reviewer = decided["decidedBy"]!.GetValue<string>();
        Assert.NotEqual(RectifyApp.ClientName, reviewer);

        var (issue, _) = await _kit.ReadAsync(id);
        Assert.Equal("closed", IssueKit.State(issue));
        var closure = issue["closure"]!;
        Assert.Equal(closedOn, closure["closedOn"]!.GetValue<string>());
        Assert.Equal(reviewer, closure["reviewer"]!.GetValue<string>());
        Assert.Equal("经审议，整改到位，同意销号。", closure["conclusion"]!.GetValue<string>());
        Assert.Equal(closedAt, closure["closedAt"]!.GetValue<DateTime>().ToUniversalTime());
        var review2 = issue["review"]!;
        Assert.Equal(RectifyApp.ClientName, review2["requestedBy"]!.GetValue<string>());
        Assert.Equal(reviewedAt, review2["requestedAt"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.Equal("各项措施已完成，制度已印发，申请销号。", review2["note"]!.GetValue<string>());
        Assert.Equal(closedAt, issue["updatedAt"]!.GetValue<DateTime>().ToUniversalTime());
    }

    [Theory]
    [InlineData("""{"reviewer":"厅党组","closedOn":"2025-06-01","conclusion":"同意销号。"}""")]
    [InlineData("{}")]
    public async Task The_one_step_close_is_refused_and_points_at_the_sign_off(string body)
    {
        var round = await Seed.RoundAsync();
        var id = await _kit.IssueInStateAsync(round, "pending_review");
        var (_, etag) = await _kit.ReadAsync(id);
        using var response = await (await _kit.ReviewerAsync()).SendRawAsync(HttpMethod.Post, $"/api/v1/issues/{id}/close", body);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "sign-off-required");
        Assert.Contains($"/api/v1/issues/{id}/sign-offs", problem["detail"]!.GetValue<string>());
        Assert.Equal(etag, (await _kit.ReadAsync(id)).ETag);
    }

    [Fact]
    public async Task Closing_a_parent_is_refused_while_a_sub_issue_is_not_closed()
    {
        var round = await Seed.RoundAsync();
        var parent = IssueKit.Id(await Seed.IssueAsync(round, code: "5"));
        var openChild = IssueKit.Id(await Seed.IssueAsync(round, code: "5.1", title: "公墓管理不规范", parentId: parent));
        var closedChild = await _kit.IssueInStateAsync(round, "closed", parentId: parent);
        await _kit.MoveAsync(parent, "in_progress");
        await _kit.MoveAsync(parent, "pending_review");

        using (var blocked = await _kit.CloseAsync(parent))
        {
            var problem = await blocked.ShouldBeProblemAsync(HttpStatusCode.Conflict, "closing-blocked");
            Assert.Empty(problem["blockingMeasures"]!.AsArray());
            var subIssues = problem["blockingSubIssues"]!.AsArray();
            var only = Assert.Single(subIssues)!;
            Assert.Equal(openChild, IssueKit.Id(only));
            Assert.Equal("5.1", only["code"]!.GetValue<string>());
            Assert.Equal("公墓管理不规范", only["title"]!.GetValue<string>());
            Assert.Equal("open", IssueKit.State(only));
        }
        Assert.Equal("closed", IssueKit.State((await _kit.ReadAsync(closedChild)).Issue));

        await _kit.MoveAsync(openChild, "in_progress");
        await _kit.MoveAsync(openChild, "pending_review");
        using (var stillBlocked = await _kit.CloseAsync(parent))
        {
            var problem = await stillBlocked.ShouldBeProblemAsync(HttpStatusCode.Conflict, "closing-blocked");
            Assert.Equal("pending_review", IssueKit.State(Assert.Single(problem["blockingSubIssues"]!.AsArray())!));
        }

        await _kit.MoveAsync(openChild, "closed");
        await _kit.MoveAsync(parent, "closed");
    }

    [Fact]
    public async Task After_closing_the_issue_its_measures_cannot_be_created_or_changed()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var measureId = IssueKit.Id(await Seed.MeasureAsync(id));
        await _kit.SetMeasureStateAsync(measureId, "done");
        await _kit.AcceptedEvidenceAsync(measureId);
        await _kit.MoveAsync(id, "in_progress");
        await _kit.MoveAsync(id, "pending_review");
        await _kit.MoveAsync(id, "closed");

        using var create = await Client.PostJsonAsync("/api/v1/measures", new
        {
            issueId = id, code = Seed.Unique("M"), title = "补充措施", ownerUnit = "HNMZT.SHSW", startDate = "2025-03-01", dueDate = "2025-12-31",
        });
        await create.ShouldBeProblemAsync(HttpStatusCode.Conflict, "issue-closed");

        using var read = await Client.GetAsync($"/api/v1/measures/{measureId}", TestContext.Current.CancellationToken);
        var measure = await read.ShouldBeAsync(HttpStatusCode.OK);
        var etag = read.ETag();
        using var update = await Client.PutJsonAsync($"/api/v1/measures/{measureId}", IssueKit.MeasureBody(measure, "in_progress"), etag);
        await update.ShouldBeProblemAsync(HttpStatusCode.Conflict, "issue-closed");

        using var progress = await Client.PostJsonAsync($"/api/v1/measures/{measureId}/progress",
            new { reportedOn = IssueKit.Iso(_kit.Today), percent = 100 });
        await progress.ShouldBeProblemAsync(HttpStatusCode.Conflict, "issue-closed");

        using var reread = await Client.GetAsync($"/api/v1/measures/{measureId}", TestContext.Current.CancellationToken);
        var unchanged = await reread.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("done", IssueKit.State(unchanged));
        Assert.Equal(etag, reread.ETag());
        var (issue, _) = await _kit.ReadAsync(id);
        Assert.Equal(1, issue["measureCount"]!.GetValue<int>());
    }
}
