using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>Creating, reading and updating issues (问题): the resource, its validation and its concurrency control.</summary>
public sealed class IssueCrudTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);
    HttpClient Client => _kit.Client;
    Seed Seed => _kit.Seed;

    static object CreateBody(string round, string code, string title = "殡葬改革推行不力", string leadUnit = "HNMZT.SHSW", long? parentId = null) => new
    {
        round, code, title, description = "殡葬服务收费不规范、基础设施建设滞后。", category = "殡葬管理", leadUnit,
        responsibleLeader = "厅党组书记、厅长", dueDate = "2025-12-31", parentId,
    };

    [Fact]
    public async Task A_created_issue_starts_open_and_answers_with_location_etag_and_allowed_transitions()
    {
        var round = await Seed.RoundAsync();
        using var created = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, "1"));
        var issue = await created.ShouldBeAsync(HttpStatusCode.Created);

        var id = IssueKit.Id(issue);
        Assert.True(id > 0);
        Assert.Equal($"/api/v1/issues/{id}", created.Headers.Location?.ToString());
        Assert.Equal("\"1\"", created.ETag());
        Assert.Equal("open", IssueKit.State(issue));
        Assert.Equal(["in_progress", "long_term"], IssueKit.Strings(issue["allowedTransitions"]).Order(StringComparer.Ordinal));
        Assert.Equal(round, issue["round"]!.GetValue<string>());
        Assert.Equal("1", issue["code"]!.GetValue<string>());
        Assert.Equal("殡葬改革推行不力", issue["title"]!.GetValue<string>());
        Assert.Equal("殡葬服务收费不规范、基础设施建设滞后。", issue["description"]!.GetValue<string>());
        Assert.Equal("殡葬管理", issue["category"]!.GetValue<string>());
        Assert.Equal("HNMZT.SHSW", issue["leadUnit"]!.GetValue<string>());
        Assert.Equal("厅党组书记、厅长", issue["responsibleLeader"]!.GetValue<string>());
        Assert.Equal("2025-12-31", issue["dueDate"]!.GetValue<string>());
        Assert.False(issue["overdue"]!.GetValue<bool>());
        Assert.Null(issue["progress"]);
        Assert.Equal(0, issue["measureCount"]!.GetValue<int>());
        Assert.Null(issue["parentId"]);
        Assert.Null(issue["review"]);
        Assert.Null(issue["closure"]);
        Assert.Equal(RectifyApp.Start.UtcDateTime, issue["createdAt"]!.GetValue<DateTime>().ToUniversalTime());
    }

    [Fact]
    public async Task An_issue_reads_back_with_its_sub_issues_its_measures_and_its_etag()
    {
        var round = await Seed.RoundAsync();
        var parent = IssueKit.Id(await Seed.IssueAsync(round, code: "2"));
        var child1 = IssueKit.Id(await Seed.IssueAsync(round, code: "2.1", title: "社会救助兜底保障不到位", parentId: parent));
        var child2 = IssueKit.Id(await Seed.IssueAsync(round, code: "2.2", title: "低保动态管理不精准", parentId: parent));
        var measure = IssueKit.Id(await Seed.MeasureAsync(parent, code: "2.M1"));

        using var read = await Client.GetAsync($"/api/v1/issues/{parent}", TestContext.Current.CancellationToken);
        var issue = await read.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("\"1\"", read.ETag());
        Assert.Equal(parent, IssueKit.Id(issue));
        Assert.Equal([child1, child2], issue["subIssues"]!.AsArray().Select(s => IssueKit.Id(s!)));
        Assert.Equal(["2.1", "2.2"], issue["subIssues"]!.AsArray().Select(s => s!["code"]!.GetValue<string>()));
        Assert.All(issue["subIssues"]!.AsArray(), s => Assert.Equal(parent, s!["parentId"]!.GetValue<long>()));
        var measures = issue["measures"]!.AsArray();
        Assert.Equal([measure], measures.Select(m => IssueKit.Id(m!)));
        Assert.Equal("2.M1", measures[0]!["code"]!.GetValue<string>());
        Assert.Equal(parent, measures[0]!["issueId"]!.GetValue<long>());
        Assert.Equal(1, issue["measureCount"]!.GetValue<int>());

        var (child, _) = await _kit.ReadAsync(child1);
        Assert.Equal(parent, child["parentId"]!.GetValue<long>());
        Assert.Empty(child["subIssues"]!.AsArray());
        Assert.Empty(child["measures"]!.AsArray());
    }

    [Fact]
    public async Task An_unknown_issue_is_a_not_found_problem_for_every_operation()
    {
        const long unknown = 987_654_321;
        using var get = await Client.GetAsync($"/api/v1/issues/{unknown}", TestContext.Current.CancellationToken);
        var problem = await get.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Contains(unknown.ToString(System.Globalization.CultureInfo.InvariantCulture), problem["detail"]!.GetValue<string>());

        using var put = await Client.PutJsonAsync($"/api/v1/issues/{unknown}",
            new { title = "x", state = "in_progress" }, "\"1\"");
        await put.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        using var review = await _kit.ReviewAsync(unknown);
        await review.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        using var close = await _kit.CloseAsync(unknown);
        await close.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task An_unknown_round_is_unprocessable()
    {
        await Seed.UnitsAsync();
        using var response = await Client.PostJsonAsync("/api/v1/issues", CreateBody("NO-SUCH-ROUND", "1"));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]!["round"]);
        Assert.Contains("NO-SUCH-ROUND", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_parent_in_another_round_or_an_unknown_parent_is_unprocessable()
    {
        var round = await Seed.RoundAsync();
        var otherRound = await Seed.RoundAsync();
        var foreignParent = IssueKit.Id(await Seed.IssueAsync(otherRound));

        using var foreign = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, "1.1", parentId: foreignParent));
        var problem = await foreign.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]!["parentId"]);

        using var unknown = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, "1.2", parentId: 987_654_321));
        var unknownProblem = await unknown.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(unknownProblem["errors"]!["parentId"]);

        var list = await Client.GetJsonAsync($"/api/v1/issues?round={round}");
        Assert.Empty(list["items"]!.AsArray());
    }

    [Fact]
    public async Task An_unknown_lead_unit_is_unprocessable_on_create_and_on_update()
    {
        var round = await Seed.RoundAsync();
        using var create = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, "1", leadUnit: "NO.SUCH.UNIT"));
        var problem = await create.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("lead unit", problem["detail"]!.GetValue<string>());

        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var (issue, etag) = await _kit.ReadAsync(id);
        using var update = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "open", leadUnit: "NO.SUCH.UNIT"), etag);
        await update.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        var (after, afterEtag) = await _kit.ReadAsync(id);
        Assert.Equal(etag, afterEtag);
        Assert.Equal("HNMZT.SHSW", after["leadUnit"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_duplicate_code_in_the_same_round_is_a_conflict_but_another_round_may_reuse_it()
    {
        var round = await Seed.RoundAsync();
        var otherRound = await Seed.RoundAsync();
        using var first = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, "3"));
        await first.ShouldBeAsync(HttpStatusCode.Created);

        using var duplicate = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, "3", title: "另一个问题"));
        var problem = await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Contains("already exists in the round", problem["detail"]!.GetValue<string>());

        using var elsewhere = await Client.PostJsonAsync("/api/v1/issues", CreateBody(otherRound, "3"));
        var issue = await elsewhere.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(otherRound, issue["round"]!.GetValue<string>());
        Assert.Equal("3", issue["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("bad code!")]
    [InlineData(".1")]
    [InlineData("")]
    [InlineData("二.1")]
    [InlineData("A123456789012345678901234567890123")] // 34 characters, over 32
    public async Task An_invalid_code_is_refused_naming_the_field(string code)
    {
        var round = await Seed.RoundAsync();
        using var response = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, code));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["code"] ?? problem["errors"]!["Code"]);
    }

    [Fact]
    public async Task A_missing_or_empty_title_is_refused()
    {
        var round = await Seed.RoundAsync();
        using var missing = await Client.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I") });
        var problem = await missing.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("title", problem.ToJsonString(), StringComparison.OrdinalIgnoreCase);

        using var empty = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, Seed.Unique("I"), title: ""));
        var emptyProblem = await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(emptyProblem["errors"]!["title"] ?? emptyProblem["errors"]!["Title"]);

        using var nullTitle = await Client.SendRawAsync(HttpMethod.Post, "/api/v1/issues",
            $$"""{"round":"{{round}}","code":"{{Seed.Unique("I")}}","title":null}""");
        await nullTitle.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_title_over_500_characters_is_refused_and_500_is_accepted()
    {
        var round = await Seed.RoundAsync();
        using var tooLong = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, Seed.Unique("I"), title: new string('殡', 501)));
        var problem = await tooLong.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["title"] ?? problem["errors"]!["Title"]);

        using var longest = await Client.PostJsonAsync("/api/v1/issues", CreateBody(round, Seed.Unique("I"), title: new string('殡', 500)));
        var issue = await longest.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(500, issue["title"]!.GetValue<string>().Length);
    }

    [Theory]
    [InlineData("state", "\"closed\"")]
    [InlineData("id", "5")]
    [InlineData("version", "7")]
    [InlineData("closure", "{\"reviewer\":\"x\"}")]
    [InlineData("overdue", "true")]
    public async Task A_field_the_server_owns_is_refused_on_create_naming_it(string field, string value)
    {
        var round = await Seed.RoundAsync();
        var code = Seed.Unique("I");
        using var response = await Client.SendRawAsync(HttpMethod.Post, "/api/v1/issues",
            $$"""{"round":"{{round}}","code":"{{code}}","title":"殡葬改革推行不力","{{field}}":{{value}}}""");
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var errors = problem["errors"]!.AsObject();
        Assert.Contains(errors, e => e.Key.EndsWith(field, StringComparison.Ordinal));

        var list = await Client.GetJsonAsync($"/api/v1/issues?round={round}");
        Assert.Empty(list["items"]!.AsArray());
    }

    [Fact]
    public async Task An_unknown_field_is_refused_on_update_too()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        using var response = await Client.SendRawAsync(HttpMethod.Put, $"/api/v1/issues/{id}",
            """{"title":"殡葬改革推行不力","state":"open","round":"OTHER"}""", ifMatch: "\"1\"");
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem["errors"]!.AsObject(), e => e.Key.EndsWith("round", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Updating_needs_if_match_refuses_a_stale_etag_and_accepts_the_current_one()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var (issue, etag) = await _kit.ReadAsync(id);
        Assert.Equal("\"1\"", etag);
        var body = IssueKit.UpdateBody(issue, "in_progress", title: "殡葬改革推行不力（已细化）"); // the due date stays (it moves through …/deadline)

        using var missing = await Client.PutJsonAsync($"/api/v1/issues/{id}", body, ifMatch: null);
        await missing.ShouldBeProblemAsync(HttpStatusCode.PreconditionRequired, "precondition-required");
        Assert.Equal(etag, (await _kit.ReadAsync(id)).ETag);

        using var wrong = await Client.PutJsonAsync($"/api/v1/issues/{id}", body, "\"42\"");
        await wrong.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");

        using var ok = await Client.PutJsonAsync($"/api/v1/issues/{id}", body, etag);
        var updated = await ok.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("\"2\"", ok.ETag());
        Assert.Equal("in_progress", IssueKit.State(updated));
        Assert.Equal("殡葬改革推行不力（已细化）", updated["title"]!.GetValue<string>());
        Assert.Equal(issue["dueDate"]!.GetValue<string>(), updated["dueDate"]!.GetValue<string>());
        Assert.Equal(["long_term", "pending_review"], IssueKit.Strings(updated["allowedTransitions"]).Order(StringComparer.Ordinal));

        using var stale = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "long_term"), etag);
        await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");

        var (after, afterEtag) = await _kit.ReadAsync(id);
        Assert.Equal("\"2\"", afterEtag);
        Assert.Equal("in_progress", IssueKit.State(after));
        Assert.Equal("殡葬改革推行不力（已细化）", after["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task If_match_star_updates_whatever_the_version()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        await _kit.MoveAsync(id, "in_progress");
        var (issue, etag) = await _kit.ReadAsync(id);
        Assert.Equal("\"2\"", etag);

        using var star = await Client.PutJsonAsync($"/api/v1/issues/{id}", IssueKit.UpdateBody(issue, "long_term"), "*");
        var updated = await star.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("long_term", IssueKit.State(updated));
        Assert.Equal("\"3\"", star.ETag());
    }

    [Fact]
    public async Task Review_and_close_check_if_match_when_it_is_sent()
    {
        var round = await Seed.RoundAsync();
        var id = await _kit.IssueInStateAsync(round, "in_progress");
        var (_, etag) = await _kit.ReadAsync(id);

        using var staleReview = await _kit.ReviewAsync(id, ifMatch: "\"1\"");
        await staleReview.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal("in_progress", IssueKit.State((await _kit.ReadAsync(id)).Issue));

        using var review = await _kit.ReviewAsync(id, ifMatch: etag);
        await review.ShouldBeAsync(HttpStatusCode.OK);
        var reviewedEtag = review.ETag();
        Assert.NotEqual(etag, reviewedEtag);

        using var staleClose = await _kit.CloseAsync(id, ifMatch: etag);
        await staleClose.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal("pending_review", IssueKit.State((await _kit.ReadAsync(id)).Issue));

        using var close = await _kit.CloseAsync(id, ifMatch: reviewedEtag);
        await close.ShouldBeAsync(HttpStatusCode.OK);
        Assert.NotEqual(reviewedEtag, close.ETag());
    }
}
