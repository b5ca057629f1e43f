using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>
/// The issue state machine, move by move: every state to every other state through PUT (the state field), and
/// every state through POST …/review (a sign-off submission) and the acceptance of a submission. The expected outcome of each move is written out here,
/// not computed from the service's table.
/// </summary>
public sealed class IssueTransitionTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);

    /// <summary>What each state may move to next (the spec, independent of the service's own table).</summary>
    static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["open"] = ["in_progress", "long_term"],
        ["in_progress"] = ["long_term", "pending_review"],
        ["pending_review"] = ["closed", "in_progress"],
        ["closed"] = [],
        ["long_term"] = ["in_progress", "pending_review"],
    };

    public const string Ok = "ok";
    public const string Refused = "refused";
    /// <summary>Refused through PUT, with a hint to use the action endpoint that would make the move.</summary>
    public const string UseAction = "use-action";
    /// <summary>Refused because the issue is closed and frozen (409, issue-closed) until reopened.</summary>
    public const string Frozen = "frozen";
    /// <summary>A decision on an issue that was never submitted for sign-off: there is no submission to decide on (404).</summary>
    public const string NothingToDecide = "nothing-to-decide";

    [Theory]
    // from open
    [InlineData("open", "put", "in_progress", Ok)]
    [InlineData("open", "put", "long_term", Ok)]
    [InlineData("open", "put", "pending_review", Refused)]
    [InlineData("open", "put", "closed", Refused)]
    [InlineData("open", "review", "pending_review", Refused)]
    [InlineData("open", "close", "closed", NothingToDecide)]
    // from in_progress
    [InlineData("in_progress", "put", "open", Refused)]
    [InlineData("in_progress", "put", "long_term", Ok)]
    [InlineData("in_progress", "put", "pending_review", UseAction)]
    [InlineData("in_progress", "put", "closed", Refused)]
    [InlineData("in_progress", "review", "pending_review", Ok)]
    [InlineData("in_progress", "close", "closed", NothingToDecide)]
    // from pending_review
    [InlineData("pending_review", "put", "open", Refused)]
    [InlineData("pending_review", "put", "in_progress", UseAction)]
    [InlineData("pending_review", "put", "long_term", Refused)]
    [InlineData("pending_review", "put", "closed", UseAction)]
    [InlineData("pending_review", "review", "pending_review", Refused)]
    [InlineData("pending_review", "close", "closed", Ok)]
    // from closed: nothing
    [InlineData("closed", "put", "open", Frozen)]
    [InlineData("closed", "put", "in_progress", Frozen)]
    [InlineData("closed", "put", "pending_review", Frozen)]
    [InlineData("closed", "put", "long_term", Frozen)]
    [InlineData("closed", "review", "pending_review", Frozen)]
    [InlineData("closed", "close", "closed", Frozen)]
    // from long_term
    [InlineData("long_term", "put", "open", Refused)]
    [InlineData("long_term", "put", "in_progress", Ok)]
    [InlineData("long_term", "put", "pending_review", UseAction)]
    [InlineData("long_term", "put", "closed", Refused)]
    [InlineData("long_term", "review", "pending_review", Ok)]
    [InlineData("long_term", "close", "closed", NothingToDecide)]
    public async Task Every_move_follows_the_state_machine(string from, string via, string to, string expected)
    {
        var round = await _kit.Seed.RoundAsync();
        var id = await _kit.IssueInStateAsync(round, from);
        var (before, etagBefore) = await _kit.ReadAsync(id);
        var journalBefore = await _kit.JournalCountAsync(id);

        using var response = via switch
        {
            // Out of pending_review is the review's decision: another client than the one that asked makes it.
            "put" => await (from == "pending_review" ? await _kit.ReviewerAsync() : _kit.Client)
                .PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(before, to), etagBefore),
            "review" => await _kit.ReviewAsync(id),
            "close" => await _kit.CloseAsync(id),
            _ => throw new ArgumentOutOfRangeException(nameof(via)),
        };

        if (expected == Ok)
        {
            await response.ShouldBeAsync(HttpStatusCode.OK);
            Assert.NotEqual(etagBefore, response.ETag());
            var (after, etagAfter) = await _kit.ReadAsync(id);
            Assert.Equal(to, IssueKit.State(after));
            Assert.Equal(Allowed[to], IssueKit.Strings(after["allowedTransitions"]).Order(StringComparer.Ordinal));
            Assert.Equal(response.ETag(), etagAfter);
            Assert.Equal(journalBefore + 1, await _kit.JournalCountAsync(id));
            return;
        }

        if (expected == Frozen)
            Assert.Equal(id, (await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "issue-closed"))["closedIssue"]!.GetValue<long>());
        else if (expected == NothingToDecide)
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        else
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid-transition");
            Assert.Equal(Allowed[from], IssueKit.Strings(problem["allowed"]).Order(StringComparer.Ordinal));
            Assert.Equal(from, problem["from"]!.GetValue<string>());
            Assert.Equal(to, problem["to"]!.GetValue<string>());
            var detail = problem["detail"]!.GetValue<string>();
            if (expected == UseAction)
                Assert.Contains($"POST /api/v1/issues/{{id}}/{(to == "pending_review" ? "sign-offs" : "sign-offs/{signOffId}/decision")}", detail);
        }

        // A refused move changes nothing and journals nothing.
        var (unchanged, etagUnchanged) = await _kit.ReadAsync(id);
        Assert.Equal(from, IssueKit.State(unchanged));
        Assert.Equal(etagBefore, etagUnchanged);
        Assert.Equal(before["updatedAt"]!.GetValue<string>(), unchanged["updatedAt"]!.GetValue<string>());
        Assert.Equal(journalBefore, await _kit.JournalCountAsync(id));
    }

    [Theory]
    [InlineData("open")]
    [InlineData("in_progress")]
    [InlineData("pending_review")]
    [InlineData("closed")]
    [InlineData("long_term")]
    public async Task Each_state_advertises_exactly_its_allowed_transitions(string state)
    {
        var round = await _kit.Seed.RoundAsync();
        var id = await _kit.IssueInStateAsync(round, state);
        var (issue, _) = await _kit.ReadAsync(id);
        Assert.Equal(Allowed[state], IssueKit.Strings(issue["allowedTransitions"]).Order(StringComparer.Ordinal));

        var listed = (await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}"))["items"]!.AsArray().Single(i => IssueKit.Id(i!) == id)!;
        Assert.Equal(Allowed[state], IssueKit.Strings(listed["allowedTransitions"]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_issue_sent_back_from_review_can_be_reviewed_again_and_closed()
    {
        var round = await _kit.Seed.RoundAsync();
        var id = await _kit.IssueInStateAsync(round, "pending_review");
        await _kit.MoveAsync(id, "in_progress");
        await _kit.MoveAsync(id, "long_term");
        await _kit.MoveAsync(id, "pending_review");
        var closed = await _kit.MoveAsync(id, "closed");
        Assert.Empty(closed["allowedTransitions"]!.AsArray());
        // create, in_progress, review, in_progress, long_term, review, close
        Assert.Equal(7, await _kit.JournalCountAsync(id));
    }

    [Fact]
    public async Task An_unknown_state_is_a_bad_request_not_a_transition()
    {
        var round = await _kit.Seed.RoundAsync();
        var id = IssueKit.Id(await _kit.Seed.IssueAsync(round));
        var (issue, etag) = await _kit.ReadAsync(id);
        var body = (JsonObject)JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(IssueKit.UpdateBody(issue, "open"), Http.Json))!;
        body["state"] = "signed_off";
        using var response = await _kit.Client.SendRawAsync(HttpMethod.Put, $"/api/v1/issues/{id}", body.ToJsonString(), ifMatch: etag);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(etag, (await _kit.ReadAsync(id)).ETag);
    }
}
