using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;

namespace Rectify.Api.Tests.Deadlines;

/// <summary>
/// Due dates move only through POST …/deadline, with a reason: each move is kept, listed, journaled and announced, a
/// later date counts as a deferral (an earlier one does not), and an update that would move a due date silently is
/// refused. Today is 2025-06-15 in Shanghai (the fixed clock).
/// </summary>
public sealed class DeadlineChangeTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);

    const string Reason = "项目用地审批未完成，经专班研究同意顺延。";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<(string Round, long Issue, long Measure)> MeasureAsync(string owner = "HNMZT.SHSW")
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = IssueKit.Id(await _kit.Seed.IssueAsync(round, dueDate: "2025-12-31"));
        var measure = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, dueDate: "2025-12-31", owner: owner));
        return (round, issue, measure);
    }

    static Task<HttpResponseMessage> MoveAsync(HttpClient client, string resource, long id, string dueDate, string? reason = Reason, string? ifMatch = null)
        => client.PostJsonAsync($"/api/v1/{resource}/{id}/deadline", new { dueDate, reason }, ifMatch: ifMatch);

    static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public async Task A_later_due_date_is_a_deferral_kept_with_its_reason_journaled_and_announced()
    {
        var (_, _, measure) = await MeasureAsync();
        var (_, before) = await ReadMeasureAsync(measure);

        using var moved = await MoveAsync(_kit.Client, "measures", measure, "2026-03-31");
        var change = await moved.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal("2025-12-31", Text(change["previousDueDate"]));
        Assert.Equal("2026-03-31", Text(change["dueDate"]));
        Assert.Equal(Reason, Text(change["reason"]));
        Assert.True(change["deferral"]!.GetValue<bool>());
        Assert.Equal(RectifyApp.ClientName, Text(change["changedBy"]));
        Assert.Equal(measure, change["measureId"]!.GetValue<long>());
        Assert.Null(change["issueId"]);
        Assert.Equal(RectifyApp.Start.UtcDateTime, change["changedAt"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.EndsWith($"/api/v1/measures/{measure}", moved.Headers.Location!.ToString());

        var (item, etag) = await ReadMeasureAsync(measure);
        Assert.Equal(moved.ETag(), etag);
        Assert.NotEqual(before, etag);
        Assert.Equal("2026-03-31", Text(item["dueDate"]));
        Assert.Equal("2025-12-31", Text(item["originalDueDate"]));
        Assert.Equal(1, item["deferralCount"]!.GetValue<int>());

        var listed = (await _kit.Client.GetJsonAsync($"/api/v1/measures/{measure}/deadline-changes")).AsArray();
        Assert.Equal(Reason, Text(Assert.Single(listed)!["reason"]));

        var journal = (await _kit.Client.GetJsonAsync($"/api/v1/journal?entity=measure&entityId={measure}&limit=50"))["items"]!.AsArray();
        var entry = Assert.Single(journal, e => Text(e!["action"]) == "deadline")!;
        Assert.Equal(Reason, Text(entry["after"]!["reason"]));
        Assert.Equal("2025-12-31", Text(entry["after"]!["previousDueDate"]));

        Assert.Equal(1L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM webhook_events WHERE type = 'deadline.changed' AND unit_code = 'HNMZT.SHSW' AND (data -> 'deadlineChange' ->> 'measureId')::bigint = @measure",
            new { measure }));
        Assert.Equal(1L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM changes WHERE entity = 'deadline-change' AND (key ->> 'measureId')::bigint = @measure", new { measure }));
    }

    [Fact]
    public async Task An_earlier_due_date_is_kept_but_is_not_a_deferral_and_the_original_date_stays_the_first()
    {
        var (_, issue, _) = await MeasureAsync();

        using (var earlier = await MoveAsync(_kit.Client, "issues", issue, "2025-10-31"))
            Assert.False((await earlier.ShouldBeAsync(HttpStatusCode.Created))["deferral"]!.GetValue<bool>());
        var (afterEarlier, _) = await _kit.ReadAsync(issue);
        Assert.Equal("2025-10-31", Text(afterEarlier["dueDate"]));
        Assert.Equal("2025-12-31", Text(afterEarlier["originalDueDate"]));
        Assert.Equal(0, afterEarlier["deferralCount"]!.GetValue<int>());

        using (var later = await MoveAsync(_kit.Client, "issues", issue, "2026-01-31"))
            Assert.True((await later.ShouldBeAsync(HttpStatusCode.Created))["deferral"]!.GetValue<bool>());
        var (afterLater, _) = await _kit.ReadAsync(issue);
        Assert.Equal("2025-12-31", Text(afterLater["originalDueDate"]));
        Assert.Equal(1, afterLater["deferralCount"]!.GetValue<int>());

        var changes = (await _kit.Client.GetJsonAsync($"/api/v1/issues/{issue}/deadline-changes")).AsArray();
        Assert.Equal(["2025-10-31", "2026-01-31"], changes.Select(c => Text(c!["dueDate"])).ToArray());
        Assert.Equal(["2025-12-31", "2025-10-31"], changes.Select(c => Text(c!["previousDueDate"])).ToArray());
    }

    [Fact]
    public async Task An_update_that_moves_a_due_date_is_refused_naming_the_deadline_endpoint_and_one_that_keeps_it_passes()
    {
        var (_, issue, measure) = await MeasureAsync();

        var (issueBody, issueTag) = await _kit.ReadAsync(issue);
        using (var silent = await _kit.Client.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(issueBody, "in_progress", dueDate: "2026-06-30"), issueTag))
        {
            var problem = await silent.ShouldBeProblemAsync(HttpStatusCode.Conflict, "deadline-change-required");
            Assert.Contains($"POST /api/v1/issues/{issue}/deadline", Text(problem["detail"]));
        }
        using (var kept = await _kit.Client.PutJsonAsync($"/api/v1/issues/{issue}", IssueKit.UpdateBody(issueBody, "in_progress", title: "殡葬改革推行不力（修订）"), issueTag))
            Assert.Equal("2025-12-31", Text((await kept.ShouldBeAsync(HttpStatusCode.OK))["dueDate"]));

        var (measureBody, measureTag) = await ReadMeasureAsync(measure);
        var moved = IssueKit.MeasureBody(measureBody, "in_progress");
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(moved, Http.Json))!;
        body["dueDate"] = "2026-06-30";
        using (var silent = await _kit.Client.PutJsonAsync($"/api/v1/measures/{measure}", body, measureTag))
        {
            var problem = await silent.ShouldBeProblemAsync(HttpStatusCode.Conflict, "deadline-change-required");
            Assert.Contains($"POST /api/v1/measures/{measure}/deadline", Text(problem["detail"]));
        }
        using (var kept = await _kit.Client.PutJsonAsync($"/api/v1/measures/{measure}", moved, measureTag))
            Assert.Equal("in_progress", Text((await kept.ShouldBeAsync(HttpStatusCode.OK))["state"]));

        Assert.Equal(0L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM deadline_changes WHERE issue_id = @issue OR measure_id = @measure", new { issue, measure }));
        Assert.Equal(new DateOnly(2025, 12, 31), await app.ScalarAsync<DateOnly>("SELECT due_date FROM measures WHERE id = @measure", new { measure }));
    }

    [Fact]
    public async Task A_move_needs_a_reason_a_new_date_a_current_version_and_an_item_still_open()
    {
        var (round, issue, measure) = await MeasureAsync();

        using (var missing = await _kit.Client.PostJsonAsync($"/api/v1/measures/{measure}/deadline", new { dueDate = "2026-03-31" }))
            Assert.NotNull((await missing.ShouldBeProblemAsync(HttpStatusCode.BadRequest))["errors"]!["reason"]);
        using (var blank = await MoveAsync(_kit.Client, "measures", measure, "2026-03-31", reason: "   "))
            Assert.NotNull((await blank.ShouldBeProblemAsync(HttpStatusCode.BadRequest))["errors"]!["reason"]);
        using (var tooLong = await MoveAsync(_kit.Client, "measures", measure, "2026-03-31", reason: new string('延', 2001)))
            Assert.NotNull((await tooLong.ShouldBeProblemAsync(HttpStatusCode.BadRequest))["errors"]!["reason"]);
        using (var same = await MoveAsync(_kit.Client, "measures", measure, "2025-12-31"))
            Assert.NotNull((await same.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity))["errors"]!["dueDate"]);
        using (var beforeStart = await MoveAsync(_kit.Client, "measures", measure, "2025-02-01"))
            Assert.NotNull((await beforeStart.ShouldBeProblemAsync(HttpStatusCode.BadRequest))["errors"]!["dueDate"]);
        using (var stale = await MoveAsync(_kit.Client, "measures", measure, "2026-03-31", ifMatch: "\"999\""))
            await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        using (var unknown = await MoveAsync(_kit.Client, "measures", 999_999_999, "2026-03-31"))
            await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM deadline_changes WHERE measure_id = @measure", new { measure }));

        await _kit.SetMeasureStateAsync(measure, "done");
        using (var done = await MoveAsync(_kit.Client, "measures", measure, "2026-03-31"))
            await done.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");

        var closed = await _kit.IssueInStateAsync(round, "closed");
        using (var signedOff = await MoveAsync(_kit.Client, "issues", closed, "2026-03-31"))
            await signedOff.ShouldBeProblemAsync(HttpStatusCode.Conflict, "issue-closed");
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM deadline_changes WHERE issue_id IN (@issue, @closed)", new { issue, closed }));
    }

    [Fact]
    public async Task A_client_limited_to_units_moves_only_its_units_due_dates()
    {
        var (_, issue, theirs) = await MeasureAsync(owner: "HNMZT.SHSW");
        var ours = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, owner: "HNMZT.SHJZ"));
        var shjz = app.ClientWith(await app.CreateClientAsync(Seed.Unique("shjz"), [Scopes.Read, Scopes.Write], units: ["HNMZT.SHJZ"]));

        using (var foreign = await MoveAsync(shjz, "measures", theirs, "2026-03-31"))
            Assert.Contains("'HNMZT.SHSW'", Text((await foreign.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]));
        using (var foreignIssue = await MoveAsync(shjz, "issues", issue, "2026-03-31"))
            await foreignIssue.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        using (var own = await MoveAsync(shjz, "measures", ours, "2026-03-31"))
            await own.ShouldBeAsync(HttpStatusCode.Created);

        var readOnly = app.ClientWith(await app.CreateClientAsync(Seed.Unique("reader"), [Scopes.Read]));
        using (var reader = await MoveAsync(readOnly, "measures", ours, "2026-06-30"))
            await reader.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM deadline_changes WHERE measure_id = @theirs OR issue_id = @issue", new { theirs, issue }));
    }

    [Fact]
    public async Task Lists_filter_on_deferred_and_the_dashboard_and_the_report_count_and_name_deferred_items()
    {
        var (round, issue, deferred) = await MeasureAsync();
        var earlier = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, dueDate: "2025-12-31"));
        var untouched = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, dueDate: "2025-12-31"));
        using (var m = await MoveAsync(_kit.Client, "measures", deferred, "2026-03-31")) await m.ShouldBeAsync(HttpStatusCode.Created);
        using (var m = await MoveAsync(_kit.Client, "measures", deferred, "2026-06-30")) await m.ShouldBeAsync(HttpStatusCode.Created);
        using (var m = await MoveAsync(_kit.Client, "measures", earlier, "2025-11-30")) await m.ShouldBeAsync(HttpStatusCode.Created);
        using (var i = await MoveAsync(_kit.Client, "issues", issue, "2026-06-30")) await i.ShouldBeAsync(HttpStatusCode.Created);

        Assert.Equal([deferred], IssueKit.Ids(await _kit.Client.GetJsonAsync($"/api/v1/measures?round={round}&deferred=true")));
        Assert.Equal([earlier, untouched], IssueKit.Ids(await _kit.Client.GetJsonAsync($"/api/v1/measures?round={round}&deferred=false")));
        Assert.Equal([issue], IssueKit.Ids(await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}&deferred=true")));
        Assert.Empty(IssueKit.Ids(await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}&deferred=false")));
        var measure = (await _kit.Client.GetJsonAsync($"/api/v1/measures?round={round}&deferred=true"))["items"]![0]!;
        Assert.Equal(2, measure["deferralCount"]!.GetValue<int>());
        Assert.Equal("2025-12-31", Text(measure["originalDueDate"]));

        var totals = (await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round}/dashboard"))["totals"]!;
        Assert.Equal(1, totals["deferredIssues"]!.GetValue<int>());
        Assert.Equal(1, totals["deferredMeasures"]!.GetValue<int>());
        Assert.Equal(3, totals["deferrals"]!.GetValue<int>());

        using var markdown = await _kit.Client.GetAsync($"/api/v1/rounds/{round}/report?period=2025-06&format=md", Ct);
        var md = await markdown.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, markdown.StatusCode);
        Assert.Contains("共有1个问题、1项整改措施推迟了完成时限（延期）", md);
        Assert.Contains("| 2025年12月31日 | 2026年6月30日 | 2次 |", md);
        Assert.Contains("完成时限：2026年6月30日（原定2025年12月31日，延期2次）", md);
        Assert.Contains("整改时限：2026年6月30日（原定2025年12月31日，延期1次）", md);
        Assert.DoesNotContain("完成时限：2025年11月30日（原定", md); // moved earlier: not a deferral

        using var html = await _kit.Client.GetAsync($"/api/v1/rounds/{round}/report?period=2025-06&format=html", Ct);
        var page = await html.Content.ReadAsStringAsync(Ct);
        Assert.Contains("<td>2025年12月31日</td><td>2026年6月30日</td><td>2次</td>", page);

        // A snapshot of the month counts them too.
        using (var push = await _kit.Client.PutJsonAsync($"/api/v1/rounds/{round}/snapshots/2025-06", new { narrative = "6月进展" }, null))
        {
            var summary = (await push.ShouldBeAsync(HttpStatusCode.OK))["snapshot"]!["content"]!["summary"]!;
            Assert.Equal(1, summary["deferredIssues"]!.GetValue<int>());
            Assert.Equal(1, summary["deferredMeasures"]!.GetValue<int>());
        }
    }

    async Task<(JsonNode Measure, string ETag)> ReadMeasureAsync(long id)
    {
        using var response = await _kit.Client.GetAsync($"/api/v1/measures/{id}", Ct);
        return (await response.ShouldBeAsync(HttpStatusCode.OK), response.ETag());
    }
}
