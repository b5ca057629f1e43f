using System.Net;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>
/// Separation of duties in sign-off (销号): the unit that did the work asks (scope write), someone else decides
/// (scope review), and no client decides on its own request.
/// </summary>
public sealed class IssueReviewDutyTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);

    async Task<(HttpClient Client, string Name)> ClientAsync(string name, params string[] scopes)
    {
        name = Seed.Unique(name);
        return (app.ClientWith(await app.CreateClientAsync(name, scopes)), name);
    }

    [Fact]
    public async Task A_writer_without_the_review_scope_requests_sign_off_and_is_named_as_the_requester()
    {
        var id = await _kit.IssueInStateAsync(await _kit.Seed.RoundAsync(), "in_progress");
        var (writer, name) = await ClientAsync("city-office", Scopes.Read, Scopes.Write);

        using var review = await writer.PostJsonAsync($"/api/v1/issues/{id}/review", new { note = "整改措施已全部完成，申请销号。" });
        var issue = await review.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("pending_review", IssueKit.State(issue));
        Assert.Equal(name, issue["review"]!["requestedBy"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sign_off_is_requested_without_a_body()
    {
        var id = await _kit.IssueInStateAsync(await _kit.Seed.RoundAsync(), "in_progress");
        using var review = await _kit.Client.PostAsync($"/api/v1/issues/{id}/review", null, TestContext.Current.CancellationToken);
        var issue = await review.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("pending_review", IssueKit.State(issue));
        Assert.Null(issue["review"]!["note"]);
    }

    [Fact]
    public async Task The_client_that_asked_can_neither_sign_off_nor_send_back_its_own_request()
    {
        var id = await _kit.IssueInStateAsync(await _kit.Seed.RoundAsync(), "in_progress");
        var (both, name) = await ClientAsync("all-in-one", Scopes.Read, Scopes.Write, Scopes.Review);
        using (var review = await both.PostJsonAsync($"/api/v1/issues/{id}/review", new { note = "申请销号" }))
            await review.ShouldBeAsync(HttpStatusCode.OK);
        var (pending, etag) = await _kit.ReadAsync(id);

        using (var close = await _kit.DecideAsync(id, "accept", reviewer: both))
        {
            var problem = await close.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "separation-of-duties");
            Assert.Contains(name, problem["detail"]!.GetValue<string>());
        }
        using (var sendBack = await _kit.DecideAsync(id, "request_changes", "请补充材料", reviewer: both))
            await sendBack.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "separation-of-duties");
        using (var put = await both.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(pending, "in_progress"), etag))
            await put.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid-transition");
        Assert.Equal(etag, (await _kit.ReadAsync(id)).ETag);

        // Another client with the review scope decides.
        var (reviewer, _) = await ClientAsync("rectification-office", Scopes.Read, Scopes.Review);
        using var closed = await _kit.DecideAsync(id, "accept", reviewer: reviewer);
        await closed.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("closed", IssueKit.State((await _kit.ReadAsync(id)).Issue));
    }

    [Fact]
    public async Task Sending_a_request_back_is_a_decision_that_needs_the_review_scope()
    {
        var id = await _kit.IssueInStateAsync(await _kit.Seed.RoundAsync(), "pending_review");
        var (writer, _) = await ClientAsync("writer", Scopes.Read, Scopes.Write);
        var (pending, etag) = await _kit.ReadAsync(id);

        using (var sendBack = await _kit.DecideAsync(id, "reject", "退回", reviewer: writer))
            await sendBack.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using (var close = await _kit.DecideAsync(id, "accept", reviewer: writer))
            await close.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        // Editing the request's issue without deciding stays the writer's work.
        using (var edit = await writer.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(pending, "pending_review", title: "标题更正"), etag))
            await edit.ShouldBeAsync(HttpStatusCode.OK);

        var (reviewer, _) = await ClientAsync("reviewer-with-write", Scopes.Read, Scopes.Write, Scopes.Review);
        using var back = await _kit.DecideAsync(id, "request_changes", "请补充佐证材料。", reviewer: reviewer);
        Assert.Equal("changes_requested", (await back.ShouldBeAsync(HttpStatusCode.OK))["status"]!.GetValue<string>());
        Assert.Equal("in_progress", IssueKit.State((await _kit.ReadAsync(id)).Issue));
    }
}
