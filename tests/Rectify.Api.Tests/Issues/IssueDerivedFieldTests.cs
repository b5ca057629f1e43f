using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>
/// Derived fields: <c>overdue</c> (judged on "today" in Asia/Shanghai, moved with the test clock) and <c>progress</c>
/// (mean of the measures that are not cancelled). The clock only moves forward, so each test starts from wherever
/// it stands.
/// </summary>
public sealed class IssueDerivedFieldTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static readonly TimeSpan ShanghaiOffset = TimeSpan.FromHours(8);

    readonly IssueKit _kit = new(app);
    Seed Seed => _kit.Seed;

    /// <summary>Sets the clock to a wall-clock time in Shanghai on the given date.</summary>
    void SetShanghai(DateOnly date, int hour, int minute)
        => app.Clock.SetUtcNow(new DateTimeOffset(date.ToDateTime(new TimeOnly(hour, minute)), ShanghaiOffset));

    async Task<bool> OverdueAsync(long id, string round)
    {
        var one = (await _kit.ReadAsync(id)).Issue["overdue"]!.GetValue<bool>();
        var listed = (await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}"))["items"]!.AsArray()
            .Single(i => IssueKit.Id(i!) == id)!["overdue"]!.GetValue<bool>();
        Assert.Equal(one, listed);
        return one;
    }

    [Fact]
    public async Task An_issue_becomes_overdue_at_midnight_in_Shanghai_not_at_midnight_UTC()
    {
        var round = await Seed.RoundAsync();
        var due = _kit.Today.AddDays(1);
        var id = IssueKit.Id(await Seed.IssueAsync(round, dueDate: IssueKit.Iso(due)));
        Assert.False(await OverdueAsync(id, round));

        SetShanghai(due, 23, 59); // the last minute of the due date
        Assert.False(await OverdueAsync(id, round));

        // 00:00 the next day in Shanghai is still the due date in UTC (16:00Z): overdue already.
        SetShanghai(due.AddDays(1), 0, 0);
        Assert.Equal(due, DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime));
        Assert.True(await OverdueAsync(id, round));
        Assert.Contains(id, IssueKit.Ids(await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}&overdue=true")));
    }

    [Theory]
    [InlineData("open", true)]
    [InlineData("in_progress", true)]
    [InlineData("long_term", false)]
    [InlineData("pending_review", false)]
    [InlineData("closed", false)]
    public async Task Only_open_and_in_progress_issues_past_their_due_date_are_overdue(string state, bool overdue)
    {
        var round = await Seed.RoundAsync();
        var due = _kit.Today.AddDays(1);
        var id = await _kit.IssueInStateAsync(round, state, dueDate: IssueKit.Iso(due));
        var (issue, etag) = await _kit.ReadAsync(id);
        Assert.False(issue["overdue"]!.GetValue<bool>());

        SetShanghai(due.AddDays(1), 12, 0);
        Assert.Equal(overdue, await OverdueAsync(id, round));
        Assert.Equal(etag, (await _kit.ReadAsync(id)).ETag); // derived at read time, not stored
    }

    [Fact]
    public async Task An_issue_without_a_due_date_is_never_overdue()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round, dueDate: null));
        app.Clock.Advance(TimeSpan.FromDays(400));
        Assert.False(await OverdueAsync(id, round));
    }

    [Fact]
    public async Task Moving_an_overdue_issue_to_long_term_clears_overdue()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round, dueDate: IssueKit.Iso(_kit.Today.AddDays(-1))));
        Assert.True(await OverdueAsync(id, round));
        var moved = await _kit.MoveAsync(id, "long_term");
        Assert.False(moved["overdue"]!.GetValue<bool>());
        Assert.False(await OverdueAsync(id, round));
    }

    [Fact]
    public async Task Progress_is_null_without_measures()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var (issue, _) = await _kit.ReadAsync(id);
        Assert.Null(issue["progress"]);
        Assert.Equal(0, issue["measureCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Progress_is_the_mean_of_the_measures_that_are_not_cancelled()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var dueDate = IssueKit.Iso(_kit.Today.AddDays(90));
        var planned = IssueKit.Id(await Seed.MeasureAsync(id, dueDate: dueDate));
        Assert.Equal(0m, (await _kit.ReadAsync(id)).Issue["progress"]!.GetValue<decimal>());

        var twenty = IssueKit.Id(await Seed.MeasureAsync(id, dueDate: dueDate));
        var done = IssueKit.Id(await Seed.MeasureAsync(id, dueDate: dueDate));
        var cancelled = IssueKit.Id(await Seed.MeasureAsync(id, dueDate: dueDate));
        await _kit.ReportProgressAsync(twenty, 20);
        await _kit.SetMeasureStateAsync(done, "done");
        await _kit.ReportProgressAsync(cancelled, 90);
        await _kit.SetMeasureStateAsync(cancelled, "cancelled", cancelReason: "并入其他措施");

        // (0 + 20 + 100) / 3 = 40; the cancelled measure's 90 does not count, but it is still a measure.
        var (issue, _) = await _kit.ReadAsync(id);
        Assert.Equal(40m, issue["progress"]!.GetValue<decimal>());
        Assert.Equal(4, issue["measureCount"]!.GetValue<int>());

        // (10 + 20 + 100) / 3 = 43.33…, given to one decimal.
        await _kit.ReportProgressAsync(planned, 10);
        var listed = (await _kit.Client.GetJsonAsync($"/api/v1/issues?round={round}"))["items"]!.AsArray().Single()!;
        Assert.Equal(43.3m, listed["progress"]!.GetValue<decimal>());
        Assert.Equal(43.3m, (await _kit.ReadAsync(id)).Issue["progress"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Progress_is_null_when_every_measure_is_cancelled()
    {
        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        var measure = IssueKit.Id(await Seed.MeasureAsync(id, dueDate: IssueKit.Iso(_kit.Today.AddDays(30))));
        await _kit.ReportProgressAsync(measure, 50);
        await _kit.SetMeasureStateAsync(measure, "cancelled", cancelReason: "问题重新认定");
        var (issue, _) = await _kit.ReadAsync(id);
        Assert.Null(issue["progress"]);
        Assert.Equal(1, issue["measureCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_closing_date_is_judged_on_today_in_Shanghai()
    {
        var round = await Seed.RoundAsync();
        var id = await _kit.IssueInStateAsync(round, "pending_review");
        // 00:30 in Shanghai is 16:30 the day before in UTC: the sign-off is dated by the Shanghai day.
        var shanghaiDay = _kit.Today.AddDays(1);
        SetShanghai(shanghaiDay, 0, 30);
        Assert.Equal(shanghaiDay.AddDays(-1), DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime));

        using var today = await _kit.CloseAsync(id);
        await today.ShouldBeAsync(HttpStatusCode.OK);
        var (closed, _) = await _kit.ReadAsync(id);
        Assert.Equal(IssueKit.Iso(shanghaiDay), closed["closure"]!["closedOn"]!.GetValue<string>());
    }
}
