using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>
/// A client limited to units changes only the issues its units lead (owning a measure of one is not enough), never
/// moves the lead out of or into a unit it does not hold, and creates issues only for its units. Reads are limited
/// too here (ReadsLimitedToUnits), so a take-over would also open what the client could not read.
/// </summary>
public sealed class IssueUnitScopeTests(ReadScopeTests.App app) : IClassFixture<ReadScopeTests.App>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly IssueKit _kit = new(app);

    async Task<HttpClient> DivisionAsync(string unit, params string[] scopes)
        => app.ClientWith(await app.CreateClientAsync(Seed.Unique(unit), scopes.Length > 0 ? scopes : [Scopes.Read, Scopes.Write], units: [unit]));

    async Task<long> IssueLedByAsync(string round, string? leadUnit, string state = "open")
    {
        using var created = await _kit.Client.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I"), title = "殡葬改革推行不力", leadUnit });
        var id = IssueKit.Id(await created.ShouldBeAsync(HttpStatusCode.Created));
        if (state != "open") await _kit.MoveAsync(id, "in_progress");
        if (state == "pending_review") await _kit.MoveAsync(id, "pending_review");
        return id;
    }

    Task<string> LeadAsync(long id)
        => app.ScalarAsync<string>("SELECT coalesce(lead_unit_code, '(none)') FROM issues WHERE id = @id", new { id });

    static async Task<JsonNode> RefusedAsync(HttpResponseMessage response, params string[] named)
    {
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        foreach (var unit in named) Assert.Contains($"'{unit}'", problem["detail"]!.GetValue<string>());
        return problem;
    }

    [Fact]
    public async Task A_division_cannot_take_over_another_divisions_issue_by_naming_itself_lead()
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = await IssueLedByAsync(round, "HNMZT.SHSW");
        await _kit.Seed.MeasureAsync(issue, owner: "HNMZT.SHJZ"); // SHJZ works on it: that lets it read the issue, not change it
        var (body, etag) = await _kit.ReadAsync(issue);
        var shjz = await DivisionAsync("HNMZT.SHJZ");

        using (var takeOver = await shjz.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(body, "open", leadUnit: "HNMZT.SHJZ"), etag))
            await RefusedAsync(takeOver, "HNMZT.SHSW");
        using (var edit = await shjz.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(body, "in_progress", title: "改了标题"), etag))
            await RefusedAsync(edit, "HNMZT.SHSW");

        Assert.Equal("HNMZT.SHSW", await LeadAsync(issue));
        Assert.Equal(etag, (await _kit.ReadAsync(issue)).ETag);
    }

    [Fact]
    public async Task A_take_over_of_an_issue_it_cannot_read_leaves_it_unreadable()
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = await IssueLedByAsync(round, "HNMZT.SHSW");
        var (body, etag) = await _kit.ReadAsync(issue);
        var shjz = await DivisionAsync("HNMZT.SHJZ");

        using (var takeOver = await shjz.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(body, "open", leadUnit: "HNMZT.SHJZ"), etag))
            await RefusedAsync(takeOver, "HNMZT.SHSW");
        using var read = await shjz.GetAsync($"/api/v1/issues/{issue}", Ct);
        await read.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_division_keeps_its_issue_within_its_units_and_the_department_moves_it_between_its_divisions()
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = await IssueLedByAsync(round, "HNMZT.SHJZ");
        var shjz = await DivisionAsync("HNMZT.SHJZ");

        var (body, etag) = await _kit.ReadAsync(issue);
        using (var handOver = await shjz.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(body, "open", leadUnit: "HNMZT.SHSW"), etag))
            await RefusedAsync(handOver, "HNMZT.SHSW");
        var noLead = new { title = body["title"]!.GetValue<string>(), leadUnit = (string?)null, state = "open" };
        using (var dropped = await shjz.PutJsonAsync($"/api/v1/issues/{issue}", noLead, etag))
            Assert.Contains("no unit", (await dropped.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]!.GetValue<string>());
        Assert.Equal("HNMZT.SHJZ", await LeadAsync(issue));

        using (var own = await shjz.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(body, "in_progress", title: "社会救助不到位"), etag))
            Assert.Equal("社会救助不到位", (await own.ShouldBeAsync(HttpStatusCode.OK))["title"]!.GetValue<string>());

        var department = await DivisionAsync("HNMZT");
        (body, etag) = await _kit.ReadAsync(issue);
        using (var moved = await department.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(body, "in_progress", leadUnit: "HNMZT.SHSW"), etag))
            await moved.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("HNMZT.SHSW", await LeadAsync(issue));
    }

    [Fact]
    public async Task Issues_are_created_only_with_a_lead_the_client_holds()
    {
        var round = await _kit.Seed.RoundAsync();
        var shjz = await DivisionAsync("HNMZT.SHJZ");
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM issues");

        using (var foreign = await shjz.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I"), title = "越权立项", leadUnit = "HNMZT.SHSW" }))
            await RefusedAsync(foreign, "HNMZT.SHSW");
        using (var unled = await shjz.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I"), title = "无牵头单位" }))
            await unled.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM issues"));

        using var own = await shjz.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I"), title = "社会救助不到位", leadUnit = "HNMZT.SHJZ" });
        await own.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Review_and_sign_off_of_another_units_issue_are_refused()
    {
        var round = await _kit.Seed.RoundAsync();
        var working = await IssueLedByAsync(round, "HNMZT.SHSW", "in_progress");
        var pending = await IssueLedByAsync(round, "HNMZT.SHSW", "pending_review");
        var shjz = await DivisionAsync("HNMZT.SHJZ", Scopes.Read, Scopes.Write, Scopes.Review);

        using (var review = await shjz.PostJsonAsync($"/api/v1/issues/{working}/review", new { note = "越权申请" }))
            await RefusedAsync(review, "HNMZT.SHSW");
        using (var submit = await shjz.PostJsonAsync($"/api/v1/issues/{working}/sign-offs", new { summary = "越权申请" }))
            await RefusedAsync(submit, "HNMZT.SHSW");
        using (var accept = await _kit.DecideAsync(pending, "accept", reviewer: shjz))
            await RefusedAsync(accept, "HNMZT.SHSW");
        using (var sendBack = await _kit.DecideAsync(pending, "reject", "退回", reviewer: shjz))
            await RefusedAsync(sendBack, "HNMZT.SHSW");

        Assert.Equal("in_progress", IssueKit.State((await _kit.ReadAsync(working)).Issue));
        Assert.Equal("pending_review", IssueKit.State((await _kit.ReadAsync(pending)).Issue));
    }
}
