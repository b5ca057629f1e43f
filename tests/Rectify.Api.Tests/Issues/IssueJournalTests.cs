using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>Every change to an issue writes exactly one journal row, with the issue before and after; a refused change writes none.</summary>
public sealed class IssueJournalTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);
    HttpClient Client => _kit.Client;
    Seed Seed => _kit.Seed;

    static string? Text(JsonNode? node, string field) => node?[field]?.GetValue<string>();

    [Fact]
    public async Task Create_update_review_and_close_each_write_one_journal_row_with_before_and_after()
    {
        var round = await Seed.RoundAsync();
        var created = await Seed.IssueAsync(round, title: "殡葬改革推行不力");
        var id = IssueKit.Id(created);
        var idText = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var entries = await _kit.JournalAsync(id);
        var create = Assert.Single(entries)!;
        Assert.Equal("issue", Text(create, "entity"));
        Assert.Equal(idText, Text(create, "entityId"));
        Assert.Equal("create", Text(create, "action"));
        Assert.Equal(RectifyApp.ClientName, Text(create, "actor"));
        Assert.Null(create["before"]);
        Assert.Equal("open", Text(create["after"], "state"));
        Assert.Equal(id, create["after"]!["id"]!.GetValue<long>());
        Assert.Equal("殡葬改革推行不力", Text(create["after"], "title"));

        var (issue, etag) = await _kit.ReadAsync(id);
        using (var update = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "in_progress", title: "殡葬改革推行不力（细化）"), etag))
            await update.ShouldBeAsync(HttpStatusCode.OK);
        entries = await _kit.JournalAsync(id);
        Assert.Equal(2, entries.Count);
        var updated = entries[1]!;
        Assert.Equal("update", Text(updated, "action"));
        Assert.Equal("open", Text(updated["before"], "state"));
        Assert.Equal("殡葬改革推行不力", Text(updated["before"], "title"));
        Assert.Equal("in_progress", Text(updated["after"], "state"));
        Assert.Equal("殡葬改革推行不力（细化）", Text(updated["after"], "title"));

        await _kit.MoveAsync(id, "pending_review");
        entries = await _kit.JournalAsync(id);
        Assert.Equal(3, entries.Count);
        var review = entries[2]!;
        Assert.Equal("sign-off-submitted", Text(review, "action"));
        Assert.Equal("in_progress", Text(review["before"], "state"));
        Assert.Null(review["before"]!["review"]);
        Assert.Equal("pending_review", Text(review["after"]!["issue"], "state"));
        Assert.Equal(RectifyApp.ClientName, Text(review["after"]!["issue"]!["review"], "requestedBy"));
        Assert.Equal(RectifyApp.ClientName, Text(review["after"]!["signOff"], "submittedBy"));

        await _kit.MoveAsync(id, "closed");
        entries = await _kit.JournalAsync(id);
        Assert.Equal(4, entries.Count);
        var close = entries[3]!;
        Assert.Equal("sign-off-decided", Text(close, "action"));
        Assert.Equal("pending_review", Text(close["before"], "state"));
        Assert.Null(close["before"]!["closure"]);
        Assert.Equal("closed", Text(close["after"]!["issue"], "state"));
        Assert.Equal("整改到位，同意销号。", Text(close["after"]!["issue"]!["closure"], "conclusion"));
        Assert.Equal("accepted", Text(close["after"]!["signOff"], "status"));

        Assert.Equal(["create", "update", "sign-off-submitted", "sign-off-decided"], entries.Select(e => Text(e, "action")));
        Assert.Equal(4, await _kit.JournalCountAsync(id));
        Assert.Equal(4L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM journal WHERE entity = 'issue' AND entity_id = @idText AND before IS DISTINCT FROM after", new { idText }));
    }

    [Fact]
    public async Task Refused_changes_write_no_journal_row_and_change_nothing()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var measure = IssueKit.Id(await Seed.MeasureAsync(id));
        var (issue, etag) = await _kit.ReadAsync(id);
        Assert.Equal(1, await _kit.JournalCountAsync(id));

        using (var transition = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "pending_review"), etag))
            await transition.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid-transition");
        using (var close = await _kit.CloseAsync(id))
            await close.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found"); // nothing submitted to decide on
        using (var stale = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "in_progress"), "\"9\""))
            await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        using (var missing = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "in_progress"), ifMatch: null))
            await missing.ShouldBeProblemAsync(HttpStatusCode.PreconditionRequired, "precondition-required");
        using (var badUnit = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "in_progress", leadUnit: "NOPE"), etag))
            await badUnit.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");

        Assert.Equal(1, await _kit.JournalCountAsync(id));
        var (unchanged, etagAfter) = await _kit.ReadAsync(id);
        Assert.Equal(etag, etagAfter);
        Assert.Equal("open", IssueKit.State(unchanged));

        // Blocked closing: the issue reaches pending_review (2 rows), then the refused close adds none.
        await _kit.MoveAsync(id, "in_progress");
        await _kit.MoveAsync(id, "pending_review");
        Assert.Equal(3, await _kit.JournalCountAsync(id));
        var (pending, pendingEtag) = await _kit.ReadAsync(id);
        using (var blocked = await _kit.CloseAsync(id))
            await blocked.ShouldBeProblemAsync(HttpStatusCode.Conflict, "closing-blocked");
        using (var own = await _kit.DecideAsync(id, "accept", reviewer: Client))
            await own.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "separation-of-duties");
        using (var again = await _kit.ReviewAsync(id))
            await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid-transition");
        Assert.Equal(3, await _kit.JournalCountAsync(id));
        var (stillPending, stillEtag) = await _kit.ReadAsync(id);
        Assert.Equal(pendingEtag, stillEtag);
        Assert.Equal(pending["updatedAt"]!.GetValue<string>(), stillPending["updatedAt"]!.GetValue<string>());
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'measure' AND entity_id = @m",
            new { m = measure.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
    }

    [Fact]
    public async Task A_refused_create_writes_no_journal_row()
    {
        var round = await Seed.RoundAsync();
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'issue'");
        await Seed.IssueAsync(round, code: "1");
        using (var duplicate = await Client.PostJsonAsync("/api/v1/issues", new { round, code = "1", title = "重复" }))
            await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        using (var badUnit = await Client.PostJsonAsync("/api/v1/issues", new { round, code = "2", title = "x", leadUnit = "NOPE" }))
            await badUnit.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal(before + 1, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'issue'"));
    }
}
