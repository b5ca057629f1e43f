using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>PUT of a measure: If-Match, the state machine of MeasureStates, done and cancelled.</summary>
public sealed class MeasureUpdateTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    /// <summary>The transitions of MeasureStates, spelled out: from → the states it may move to.</summary>
    static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["planned"] = ["in_progress", "done", "cancelled"],
        ["in_progress"] = ["done", "cancelled"],
        ["done"] = ["in_progress"],
        ["cancelled"] = ["planned"],
    };

    [Fact]
    public async Task An_update_without_if_match_is_precondition_required_and_changes_nothing()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, measure) = await _api.CreateAsync(issueId);
        var body = MeasureApi.UpdateBody(measure, "in_progress");
        body["title"] = "改名";

        using var missing = await Client.PutJsonAsync($"/api/v1/measures/{id}", body, ifMatch: null);
        await missing.ShouldBeProblemAsync(HttpStatusCode.PreconditionRequired, "precondition-required");

        var (after, afterEtag) = await _api.GetAsync(id);
        Assert.Equal(etag, afterEtag);
        Assert.Equal("整治殡葬乱象", after["title"]!.GetValue<string>());
        Assert.Equal(1, await _api.JournalRowsAsync(id));
    }

    [Fact]
    public async Task An_update_with_the_current_etag_applies_and_a_stale_etag_is_precondition_failed()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, measure) = await _api.CreateAsync(issueId);
        var body = MeasureApi.UpdateBody(measure, "in_progress");
        body["title"] = "全面排查整治殡葬领域突出问题";
        body["description"] = "逐县核查。";
        body["ownerUnit"] = "HNMZT.SHJZ";
        body["startDate"] = "2025-04-01"; // the due date stays: it moves only through POST …/deadline

        using var ok = await Client.PutJsonAsync($"/api/v1/measures/{id}", body, etag);
        var updated = await ok.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("\"2\"", ok.ETag());
        Assert.Equal("in_progress", updated["state"]!.GetValue<string>());
        Assert.Equal("全面排查整治殡葬领域突出问题", updated["title"]!.GetValue<string>());
        Assert.Equal("逐县核查。", updated["description"]!.GetValue<string>());
        Assert.Equal("HNMZT.SHJZ", updated["ownerUnit"]!.GetValue<string>());
        Assert.Equal("2025-04-01", updated["startDate"]!.GetValue<string>());
        Assert.Equal(measure["dueDate"]!.GetValue<string>(), updated["dueDate"]!.GetValue<string>());
        Assert.Equal(["done", "cancelled"], updated["allowedTransitions"]!.AsArray().Select(s => s!.GetValue<string>()));

        body["title"] = "过期的修改";
        using var stale = await Client.PutJsonAsync($"/api/v1/measures/{id}", body, etag);
        await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");

        var (read, readEtag) = await _api.GetAsync(id);
        Assert.Equal("\"2\"", readEtag);
        Assert.Equal("全面排查整治殡葬领域突出问题", read["title"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("*")]
    [InlineData("\"999\", *")]
    public async Task An_update_with_if_match_star_applies_to_any_version(string ifMatch)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, measure) = await _api.CreateAsync(issueId);
        await _api.MoveToAsync(id, "in_progress"); // the version moves on

        using var ok = await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "done"), ifMatch);
        var updated = await ok.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("done", updated["state"]!.GetValue<string>());
        Assert.Equal("\"3\"", ok.ETag());
    }

    [Theory]
    [InlineData("W/\"1\"")]
    [InlineData("\"abc\"")]
    [InlineData("1")]
    public async Task An_if_match_that_cannot_match_a_version_is_precondition_failed(string ifMatch)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, measure) = await _api.CreateAsync(issueId);
        using var response = await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "in_progress"), ifMatch);
        await response.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal("planned", (await _api.GetAsync(id)).Body["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Updating_an_unknown_measure_is_not_found()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (_, _, measure) = await _api.CreateAsync(issueId);
        using var response = await Client.PutJsonAsync("/api/v1/measures/987654321", MeasureApi.UpdateBody(measure, "planned"), "\"1\"");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    static readonly (string From, string To)[] AllowedPairs =
    [
        ("planned", "in_progress"), ("planned", "done"), ("planned", "cancelled"),
        ("in_progress", "done"), ("in_progress", "cancelled"),
        ("done", "in_progress"),
        ("cancelled", "planned"),
        // Keeping the state is an edit of the other fields, always allowed.
        ("planned", "planned"), ("in_progress", "in_progress"), ("done", "done"), ("cancelled", "cancelled"),
    ];

    static readonly (string From, string To)[] RefusedPairs =
    [
        ("in_progress", "planned"),
        ("done", "planned"), ("done", "cancelled"),
        ("cancelled", "in_progress"), ("cancelled", "done"),
    ];

    static TheoryData<string, string> Rows((string From, string To)[] pairs)
    {
        var data = new TheoryData<string, string>();
        foreach (var (from, to) in pairs) data.Add(from, to);
        return data;
    }

    public static TheoryData<string, string> AllowedTransitions() => Rows(AllowedPairs);

    public static TheoryData<string, string> RefusedTransitions() => Rows(RefusedPairs);

    /// <summary>A measure in state <paramref name="from"/>, its ETag and journal count, and the answer to a PUT moving it to <paramref name="to"/>.</summary>
    async Task<(long Id, string ETag, long Journal, HttpResponseMessage Response)> TryTransitionAsync(string from, string to)
    {
        var (issueId, _) = await _api.IssueAsync();
        var id = await _api.MeasureInStateAsync(issueId, from);
        var (measure, etag) = await _api.GetAsync(id);
        var journal = await _api.JournalRowsAsync(id);
        var response = await Client.PutJsonAsync($"/api/v1/measures/{id}",
            MeasureApi.UpdateBody(measure, to, to == "cancelled" ? "并入措施1.1" : null), etag);
        return (id, etag, journal, response);
    }

    [Theory]
    [MemberData(nameof(AllowedTransitions))]
    public async Task An_allowed_transition_applies(string from, string to)
    {
        var (id, etag, journal, response) = await TryTransitionAsync(from, to);
        using var _ = response;
        var updated = await response.ShouldBeAsync(HttpStatusCode.OK);

        Assert.Equal(to, updated["state"]!.GetValue<string>());
        Assert.Equal(Allowed[to], updated["allowedTransitions"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.NotEqual(etag, response.ETag());
        Assert.Equal(journal + 1, await _api.JournalRowsAsync(id));
        Assert.Equal(to == "cancelled" ? "并入措施1.1" : null, updated["cancelReason"]?.GetValue<string>());
        if (to == "done")
        {
            Assert.Equal(100m, updated["progress"]!.GetValue<decimal>());
            Assert.Equal("2025-06-15", updated["completedOn"]!.GetValue<string>());
        }
        else
        {
            Assert.Null(updated["completedOn"]);
        }
        Assert.Equal(to, (await _api.GetAsync(id)).Body["state"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(RefusedTransitions))]
    public async Task A_refused_transition_is_an_invalid_transition_conflict_listing_the_allowed_states(string from, string to)
    {
        var (id, etag, journal, response) = await TryTransitionAsync(from, to);
        using var _ = response;
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "invalid-transition");

        Assert.Equal(from, problem["from"]!.GetValue<string>());
        Assert.Equal(to, problem["to"]!.GetValue<string>());
        Assert.Equal(Allowed[from], problem["allowed"]!.AsArray().Select(s => s!.GetValue<string>()));
        var (after, afterEtag) = await _api.GetAsync(id);
        Assert.Equal(from, after["state"]!.GetValue<string>());
        Assert.Equal(etag, afterEtag);
        Assert.Equal(journal, await _api.JournalRowsAsync(id));
    }

    [Fact]
    public void The_transition_theories_cover_every_pair_of_states_exactly_once()
    {
        var states = Allowed.Keys.ToArray();
        Assert.Equal(states.Length * states.Length, AllowedPairs.Length + RefusedPairs.Length);
        foreach (var from in states)
        foreach (var to in states)
        {
            var allowed = from == to || Allowed[from].Contains(to);
            Assert.Equal(allowed, AllowedPairs.Contains((from, to)));
            Assert.Equal(!allowed, RefusedPairs.Contains((from, to)));
        }
    }

    [Fact]
    public async Task Done_through_put_sets_progress_100_and_completedOn_today_and_reopening_clears_completedOn()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        await _api.AddProgressAsync(id, "2025-06-01", 40);

        var (done, _) = await _api.MoveToAsync(id, "done");
        Assert.Equal(100m, done["progress"]!.GetValue<decimal>());
        Assert.Equal("2025-06-15", done["completedOn"]!.GetValue<string>());
        Assert.False(done["overdue"]!.GetValue<bool>());
        Assert.Equal("green", done["trafficLight"]!.GetValue<string>());

        var (reopened, _) = await _api.MoveToAsync(id, "in_progress");
        Assert.Equal("in_progress", reopened["state"]!.GetValue<string>());
        Assert.Null(reopened["completedOn"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Cancelling_without_a_reason_is_refused_naming_cancelReason(string? reason)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, measure) = await _api.CreateAsync(issueId);
        using var response = await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "cancelled", reason), etag);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.True(problem["errors"]!["cancelReason"] is not null || problem["errors"]!["CancelReason"] is not null, problem.ToJsonString());

        var (after, afterEtag) = await _api.GetAsync(id);
        Assert.Equal("planned", after["state"]!.GetValue<string>());
        Assert.Equal(etag, afterEtag);
    }

    [Fact]
    public async Task A_cancelled_measure_has_no_traffic_light_and_reviving_it_clears_the_reason()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId, dueDate: "2025-01-31", startDate: "2025-01-01"); // overdue while planned
        var (cancelled, _) = await _api.MoveToAsync(id, "cancelled");
        Assert.Equal("与其他措施合并", cancelled["cancelReason"]!.GetValue<string>());
        Assert.False(cancelled["overdue"]!.GetValue<bool>());
        Assert.True(cancelled.AsObject().ContainsKey("trafficLight"));
        Assert.Null(cancelled["trafficLight"]);
        Assert.Equal(["planned"], cancelled["allowedTransitions"]!.AsArray().Select(s => s!.GetValue<string>()));

        var (revived, _) = await _api.MoveToAsync(id, "planned");
        Assert.Null(revived["cancelReason"]);
        Assert.True(revived["overdue"]!.GetValue<bool>());
        Assert.Equal("red", revived["trafficLight"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_update_with_a_due_date_before_the_start_date_is_refused_naming_dueDate()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, measure) = await _api.CreateAsync(issueId);
        var body = MeasureApi.UpdateBody(measure, "planned");
        body["startDate"] = "2025-09-01";
        body["dueDate"] = "2025-08-31";
        using var response = await Client.PutJsonAsync($"/api/v1/measures/{id}", body, etag);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["dueDate"]);
        Assert.Equal(etag, (await _api.GetAsync(id)).ETag);
    }

    [Theory]
    [InlineData("progress", 50)]
    [InlineData("completedOn", "2025-06-01")]
    [InlineData("issueId", 1)]
    [InlineData("code", "9.9")]
    public async Task A_field_the_server_owns_is_refused_on_update_naming_it(string field, object value)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, measure) = await _api.CreateAsync(issueId);
        var body = MeasureApi.UpdateBody(measure, "in_progress");
        body[field] = value;
        using var response = await Client.PutJsonAsync($"/api/v1/measures/{id}", body, etag);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(etag, (await _api.GetAsync(id)).ETag);
    }

    [Theory]
    [InlineData("finished")]
    [InlineData("in progress")]
    [InlineData("")]
    [InlineData("overdue")]
    public async Task An_unknown_state_is_a_bad_request_naming_state(string state)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, measure) = await _api.CreateAsync(issueId);
        using var response = await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, state), etag);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]!["state"]);
    }
}
