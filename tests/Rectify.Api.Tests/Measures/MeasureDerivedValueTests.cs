using System.Globalization;
using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>
/// Overdue and the traffic light are derived from "today" in Asia/Shanghai (UTC+8), not from the UTC date. Every test here
/// sets the clock first (the class's tests share one app and its clock, and run one after another).
/// </summary>
public sealed class MeasureDerivedValueTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    /// <summary>Sets the clock to an instant given in UTC (backwards too: AdjustTime, unlike SetUtcNow, may go back).</summary>
    void At(string utc) => app.Clock.AdjustTime(DateTimeOffset.Parse(utc, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal));

    async Task<(bool Overdue, string? Light)> DerivedAsync(long id)
    {
        var (measure, _) = await _api.GetAsync(id);
        return (measure["overdue"]!.GetValue<bool>(), measure["trafficLight"]?.GetValue<string>());
    }

    /// <summary>The single GET and the list filters tell the same story for every measure of the issue.</summary>
    async Task AssertListAgreesAsync(long issueId)
    {
        var all = await _api.ListIdsAsync($"issue={issueId}");
        var overdue = await _api.ListIdsAsync($"issue={issueId}&overdue=true");
        var notOverdue = await _api.ListIdsAsync($"issue={issueId}&overdue=false");
        var lights = new Dictionary<string, List<long>>();
        foreach (var light in new[] { "red", "yellow", "green" }) lights[light] = await _api.ListIdsAsync($"issue={issueId}&trafficLight={light}");

        foreach (var id in all)
        {
            var (isOverdue, light) = await DerivedAsync(id);
            Assert.Equal(isOverdue, overdue.Contains(id));
            Assert.Equal(!isOverdue, notOverdue.Contains(id));
            foreach (var (name, ids) in lights) Assert.Equal(light == name, ids.Contains(id));
        }
        Assert.Equal(lights["red"], overdue); // red exactly when overdue
    }

    [Fact]
    public async Task Just_after_midnight_in_shanghai_while_utc_is_still_the_day_before_a_measure_due_today_is_not_overdue_and_yellow()
    {
        At("2025-06-14T17:00:00Z"); // 2025-06-15 01:00 in Shanghai
        var (issueId, _) = await _api.IssueAsync();
        var dueToday = (await _api.CreateAsync(issueId, "2025-06-15")).Id;
        var dueYesterday = (await _api.CreateAsync(issueId, "2025-06-14")).Id; // the UTC date, but yesterday in Shanghai

        Assert.Equal((false, "yellow"), await DerivedAsync(dueToday));
        Assert.Equal((true, "red"), await DerivedAsync(dueYesterday));
        Assert.Equal([dueYesterday], await _api.ListIdsAsync($"issue={issueId}&overdue=true"));
        Assert.Equal([dueYesterday], await _api.ListIdsAsync($"issue={issueId}&trafficLight=red"));
        Assert.Equal([dueToday], await _api.ListIdsAsync($"issue={issueId}&trafficLight=yellow"));
        await AssertListAgreesAsync(issueId);
    }

    [Fact]
    public async Task A_measure_becomes_overdue_and_red_at_midnight_shanghai_time()
    {
        At("2025-06-15T04:00:00Z");
        var (issueId, _) = await _api.IssueAsync();
        var id = (await _api.CreateAsync(issueId, "2025-06-15")).Id;

        At("2025-06-15T15:59:59Z"); // 23:59:59 on the 15th in Shanghai
        Assert.Equal((false, "yellow"), await DerivedAsync(id));
        Assert.Empty(await _api.ListIdsAsync($"issue={issueId}&overdue=true"));
        Assert.Equal([id], await _api.ListIdsAsync($"issue={issueId}&overdue=false"));

        At("2025-06-15T16:00:00Z"); // 00:00 on the 16th in Shanghai, still the 15th in UTC
        Assert.Equal((true, "red"), await DerivedAsync(id));
        Assert.Equal([id], await _api.ListIdsAsync($"issue={issueId}&overdue=true"));
        Assert.Equal([id], await _api.ListIdsAsync($"issue={issueId}&trafficLight=red"));
        Assert.Empty(await _api.ListIdsAsync($"issue={issueId}&trafficLight=yellow"));
        await AssertListAgreesAsync(issueId);
    }

    [Fact]
    public async Task Due_within_ten_days_inclusive_is_yellow_and_eleven_days_out_is_green()
    {
        At("2025-06-15T04:00:00Z"); // today 2025-06-15
        var (issueId, _) = await _api.IssueAsync();
        var plus10 = (await _api.CreateAsync(issueId, "2025-06-25")).Id;
        var plus11 = (await _api.CreateAsync(issueId, "2025-06-26")).Id;
        var plus12 = (await _api.CreateAsync(issueId, "2025-06-27")).Id;

        Assert.Equal((false, "yellow"), await DerivedAsync(plus10));
        Assert.Equal((false, "green"), await DerivedAsync(plus11));
        Assert.Equal([plus10], await _api.ListIdsAsync($"issue={issueId}&trafficLight=yellow"));
        Assert.Equal([plus11, plus12], await _api.ListIdsAsync($"issue={issueId}&trafficLight=green"));
        await AssertListAgreesAsync(issueId);

        At("2025-06-15T16:00:00Z"); // today 2025-06-16 in Shanghai: the window moves by a day
        Assert.Equal((false, "yellow"), await DerivedAsync(plus11));
        Assert.Equal((false, "green"), await DerivedAsync(plus12));
        Assert.Equal([plus10, plus11], await _api.ListIdsAsync($"issue={issueId}&trafficLight=yellow"));
        await AssertListAgreesAsync(issueId);
    }

    [Fact]
    public async Task Done_is_green_and_never_overdue_and_cancelled_has_no_light()
    {
        At("2025-06-15T04:00:00Z");
        var (issueId, _) = await _api.IssueAsync();
        var done = await _api.MeasureInStateAsync(issueId, "done", dueDate: "2025-01-31");
        var cancelled = await _api.MeasureInStateAsync(issueId, "cancelled", dueDate: "2025-01-31");
        var late = await _api.MeasureInStateAsync(issueId, "in_progress", dueDate: "2025-01-31");
        var doneSoon = await _api.MeasureInStateAsync(issueId, "done", dueDate: "2025-06-16");

        Assert.Equal((false, "green"), await DerivedAsync(done));
        Assert.Equal((false, "green"), await DerivedAsync(doneSoon));
        Assert.Equal((false, null), await DerivedAsync(cancelled));
        Assert.Equal((true, "red"), await DerivedAsync(late));
        Assert.Equal([late], await _api.ListIdsAsync($"issue={issueId}&overdue=true"));
        Assert.Equal([done, cancelled, doneSoon], await _api.ListIdsAsync($"issue={issueId}&overdue=false"));
        Assert.Equal([done, doneSoon], await _api.ListIdsAsync($"issue={issueId}&trafficLight=green"));
        await AssertListAgreesAsync(issueId);
    }

    [Fact]
    public async Task Done_through_put_completes_on_the_shanghai_date_not_the_utc_date()
    {
        At("2025-06-15T17:00:00Z"); // 2025-06-16 01:00 in Shanghai
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        var (done, _) = await _api.MoveToAsync(id, "done");
        Assert.Equal("2025-06-16", done["completedOn"]!.GetValue<string>());
        Assert.Equal(100m, done["progress"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Progress_may_be_reported_for_the_shanghai_date_while_utc_is_still_the_day_before()
    {
        At("2025-06-14T17:00:00Z"); // 2025-06-15 01:00 in Shanghai
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);

        var entry = await _api.AddProgressAsync(id, "2025-06-15", 100);
        Assert.Equal("2025-06-15", entry["reportedOn"]!.GetValue<string>());
        Assert.Equal("2025-06-15", (await _api.GetAsync(id)).Body["completedOn"]!.GetValue<string>());

        At("2025-06-15T15:00:00Z"); // 2025-06-15 23:00 in Shanghai: the 16th is still the future
        var (other, _, _) = await _api.CreateAsync(issueId);
        using var response = await Client.PostJsonAsync($"/api/v1/measures/{other}/progress", new { reportedOn = "2025-06-16", percent = 10 });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["reportedOn"]);
    }
}
