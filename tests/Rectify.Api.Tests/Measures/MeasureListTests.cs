using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>
/// GET /api/v1/measures: filters and keyset paging. Each test builds its own round, so that the round (or issue) filter
/// scopes the answer to the test's own measures. Today is 2025-06-15 in Shanghai (the clock is not moved here).
/// </summary>
public sealed class MeasureListTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    /// <summary>
    /// One round, two issues, six measures:
    /// a planned, due 2025-12-31, SHSW, issue 1 (green);
    /// b in_progress, due 2025-06-20, SHJZ, issue 1 (yellow);
    /// c planned, due 2025-06-14, SHSW, issue 1 (overdue, red);
    /// d done, due 2025-06-01, SHJZ, issue 2 (green);
    /// e cancelled, due 2025-05-01, SHSW, issue 2 (no light);
    /// f in_progress, due 2025-06-25, SHSW, issue 2 (yellow, the last yellow day).
    /// </summary>
    async Task<Scenario> ScenarioAsync()
    {
        var (issue1, round) = await _api.IssueAsync();
        var issue2 = await _api.IssueInAsync(round);
        var a = (await _api.CreateAsync(issue1, "2025-12-31")).Id;
        var b = (await _api.CreateAsync(issue1, "2025-06-20", owner: "HNMZT.SHJZ")).Id;
        await _api.MoveToAsync(b, "in_progress");
        var c = (await _api.CreateAsync(issue1, "2025-06-14")).Id;
        var d = (await _api.CreateAsync(issue2, "2025-06-01", owner: "HNMZT.SHJZ")).Id;
        await _api.MoveToAsync(d, "done");
        var e = (await _api.CreateAsync(issue2, "2025-05-01")).Id;
        await _api.MoveToAsync(e, "cancelled");
        var f = (await _api.CreateAsync(issue2, "2025-06-25")).Id;
        await _api.MoveToAsync(f, "in_progress");
        return new Scenario(round, issue1, issue2, a, b, c, d, e, f);
    }

    sealed record Scenario(string Round, long Issue1, long Issue2, long A, long B, long C, long D, long E, long F)
    {
        /// <summary>The ids named by letters, in creation (id) order.</summary>
        public List<long> Ids(string letters) => letters.Select(letter => letter switch
        {
            'A' => A, 'B' => B, 'C' => C, 'D' => D, 'E' => E, 'F' => F,
            _ => throw new ArgumentOutOfRangeException(nameof(letters)),
        }).ToList();
    }

    [Fact]
    public async Task Filters_by_issue_and_by_round()
    {
        var s = await ScenarioAsync();
        Assert.Equal([s.A, s.B, s.C], await _api.ListIdsAsync($"issue={s.Issue1}"));
        Assert.Equal([s.D, s.E, s.F], await _api.ListIdsAsync($"issue={s.Issue2}"));
        Assert.Equal([s.A, s.B, s.C, s.D, s.E, s.F], await _api.ListIdsAsync($"round={s.Round}"));
        Assert.Empty(await _api.ListIdsAsync("round=NO-SUCH-ROUND"));
        Assert.Empty(await _api.ListIdsAsync("issue=987654321"));
    }

    [Fact]
    public async Task Filters_by_owner_unit()
    {
        var s = await ScenarioAsync();
        Assert.Equal([s.B, s.D], await _api.ListIdsAsync($"round={s.Round}&ownerUnit=HNMZT.SHJZ"));
        Assert.Equal([s.A, s.C, s.E, s.F], await _api.ListIdsAsync($"round={s.Round}&ownerUnit=HNMZT.SHSW"));
        // Owner unit alone: every measure owned by SHJZ in the database, including this round's.
        var all = await _api.ListIdsAsync("ownerUnit=HNMZT.SHJZ&limit=200");
        Assert.Contains(s.B, all);
        Assert.Contains(s.D, all);
        Assert.DoesNotContain(s.A, all);
    }

    [Theory]
    [InlineData("planned", "AC")]
    [InlineData("in_progress", "BF")]
    [InlineData("done", "D")]
    [InlineData("cancelled", "E")]
    public async Task Filters_by_state(string state, string expected)
    {
        var s = await ScenarioAsync();
        Assert.Equal(s.Ids(expected), await _api.ListIdsAsync($"round={s.Round}&state={state}"));
    }

    [Theory]
    [InlineData("state=finished")]
    [InlineData("state=InProgress")] // the C# name is not the wire value
    [InlineData("state=1")]
    [InlineData("state=17")]
    [InlineData("trafficLight=amber")]
    [InlineData("trafficLight=Red")]
    [InlineData("trafficLight=2")]
    public async Task A_state_or_light_filter_that_is_not_a_documented_value_is_a_bad_request(string query)
    {
        using var response = await Client.GetAsync($"/api/v1/measures?{query}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]![query.Split('=')[0]]);
    }

    [Fact]
    public async Task Filters_by_due_date_range_inclusive()
    {
        var s = await ScenarioAsync();
        Assert.Equal([s.B, s.C, s.D, s.E], await _api.ListIdsAsync($"round={s.Round}&dueBefore=2025-06-20"));
        Assert.Equal([s.A, s.B, s.F], await _api.ListIdsAsync($"round={s.Round}&dueAfter=2025-06-20"));
        Assert.Equal([s.B, s.C, s.F], await _api.ListIdsAsync($"round={s.Round}&dueAfter=2025-06-14&dueBefore=2025-06-25"));
        Assert.Equal([s.C], await _api.ListIdsAsync($"round={s.Round}&dueAfter=2025-06-14&dueBefore=2025-06-14"));
        Assert.Empty(await _api.ListIdsAsync($"round={s.Round}&dueAfter=2025-07-01&dueBefore=2025-06-01"));
    }

    [Theory]
    [InlineData("dueBefore=2025-02-30")]
    [InlineData("dueAfter=yesterday")]
    [InlineData("overdue=maybe")]
    [InlineData("issue=abc")]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    [InlineData("cursor=not-a-cursor")]
    public async Task A_malformed_filter_is_a_bad_request(string query)
    {
        using var response = await Client.GetAsync($"/api/v1/measures?{query}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]![query.Split('=')[0]]);
    }

    [Fact]
    public async Task Filters_by_overdue_and_traffic_light()
    {
        var s = await ScenarioAsync();
        Assert.Equal([s.C], await _api.ListIdsAsync($"round={s.Round}&overdue=true"));
        Assert.Equal([s.A, s.B, s.D, s.E, s.F], await _api.ListIdsAsync($"round={s.Round}&overdue=false"));
        Assert.Equal([s.C], await _api.ListIdsAsync($"round={s.Round}&trafficLight=red"));
        Assert.Equal([s.B, s.F], await _api.ListIdsAsync($"round={s.Round}&trafficLight=yellow"));
        Assert.Equal([s.A, s.D], await _api.ListIdsAsync($"round={s.Round}&trafficLight=green"));
        Assert.Empty(await _api.ListIdsAsync($"round={s.Round}&trafficLight=yellow&overdue=true"));
    }

    [Fact]
    public async Task Listed_measures_carry_the_same_derived_values_as_the_single_get()
    {
        var s = await ScenarioAsync();
        var page = await Client.GetJsonAsync($"/api/v1/measures?round={s.Round}");
        foreach (var item in page["items"]!.AsArray())
        {
            var (single, _) = await _api.GetAsync(item!["id"]!.GetValue<long>());
            Assert.Equal(single["overdue"]!.GetValue<bool>(), item["overdue"]!.GetValue<bool>());
            Assert.Equal(single["trafficLight"]?.GetValue<string>(), item["trafficLight"]?.GetValue<string>());
            Assert.Equal(single["state"]!.GetValue<string>(), item["state"]!.GetValue<string>());
            Assert.False(item.AsObject().ContainsKey("progressEntries"));
            Assert.False(item.AsObject().ContainsKey("evidence"));
        }
        Assert.Equal(6, page["items"]!.AsArray().Count);
        Assert.Null(page["nextCursor"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&overdue=false")]
    [InlineData("&ownerUnit=HNMZT.SHSW")]
    public async Task Keyset_paging_with_limit_2_visits_every_measure_once_in_order(string filter)
    {
        var s = await ScenarioAsync();
        var expected = await _api.ListIdsAsync($"round={s.Round}{filter}&limit=200");
        Assert.True(expected.Count >= 4);

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Client.GetJsonAsync($"/api/v1/measures?round={s.Round}{filter}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            var items = page["items"]!.AsArray();
            cursor = page["nextCursor"]?.GetValue<string>();
            Assert.InRange(items.Count, 1, 2);
            if (cursor is not null) Assert.Equal(2, items.Count);
            seen.AddRange(items.Select(m => m!["id"]!.GetValue<long>()));
            pages++;
        } while (cursor is not null && pages < 10);

        Assert.Equal(expected, seen);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(seen.Order(), seen);
        Assert.Equal((expected.Count + 1) / 2, pages);
    }

    [Fact]
    public async Task A_page_that_ends_exactly_at_the_last_measure_has_no_next_cursor()
    {
        var (issueId, _) = await _api.IssueAsync();
        await _api.CreateAsync(issueId);
        await _api.CreateAsync(issueId);
        var page = await Client.GetJsonAsync($"/api/v1/measures?issue={issueId}&limit=2");
        Assert.Equal(2, page["items"]!.AsArray().Count);
        Assert.Null(page["nextCursor"]);
    }
}
