using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.Features.Warnings;
using Rectify.Api.Tests.Infrastructure;
using static Rectify.Api.Tests.Warnings.WarningKit;

namespace Rectify.Api.Tests.Warnings;

/// <summary>
/// The daily job on two instances of the app over one database (two nodes), run by hand under the fixed clock: each level
/// change is recorded once, dated, listed per item, sent as a webhook event, and counted in the snapshot and the report.
/// </summary>
public sealed class DailyWarningJobTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly WarningKit _kit = new(app);

    [Fact]
    public async Task Two_nodes_running_the_job_twice_a_day_record_each_level_change_once()
    {
        await using var second = app.WithWebHostBuilder(_ => { }); // the same configuration, database and clock: another node
        var nodes = new[] { app.Services.GetRequiredService<DailyWarnings>(), second.Services.GetRequiredService<DailyWarnings>() };
        Assert.NotSame(nodes[0], nodes[1]);
        async Task<IReadOnlyList<WarningChangeResponse>> RunBothTwiceAsync()
        {
            var runs = (await Task.WhenAll(nodes.Select(n => n.RunOnceAsync(Ct)))).Concat(await Task.WhenAll(nodes.Select(n => n.RunOnceAsync(Ct))))
                .ToList();
            Assert.All(runs, r => Assert.True(r.Due));
            return runs.SelectMany(r => r.Recorded).ToList();
        }

        var round = await _kit.Seed.RoundAsync();
        await _kit.Seed.UnitsAsync();
        var day = _kit.NextMidnight();
        _kit.At(day, TimeSpan.FromMinutes(5));
        var issue = await _kit.Seed.IssueAsync(round, dueDate: Date(day.AddDays(90)));
        var issueId = issue["id"]!.GetValue<long>();
        var toYellow = (await _kit.MeasureDueAsync(issueId, day.AddDays(11)))["id"]!.GetValue<long>(); // notice today, yellow tomorrow
        var red = (await _kit.MeasureDueAsync(issueId, day.AddDays(-2)))["id"]!.GetValue<long>();

        // Day 1: both nodes, twice each: the two items entering their levels, recorded once.
        var first = await RunBothTwiceAsync();
        Assert.Equal([(toYellow, (string?)null, "notice"), (red, null, "red")],
            first.Where(c => c.Kind == WarningItemKind.Measure && (c.ItemId == toYellow || c.ItemId == red)).OrderBy(c => c.ItemId)
                .Select(c => (c.ItemId, Level(c.From), Level(c.To))));
        Assert.Equal(2,
            await app.ScalarAsync<long>("SELECT count(*) FROM warning_changes WHERE item_kind = 'measure' AND item_id = ANY (@ids)",
            new { ids = new[] { toYellow, red } }));

        // Day 2: the notice becomes yellow, once; nothing else changes.
        _kit.At(day.AddDays(1), TimeSpan.FromMinutes(5));
        var second2 = await RunBothTwiceAsync();
        var change = Assert.Single(second2);
        Assert.Equal((toYellow, "notice", "yellow", day.AddDays(1)), (change.ItemId, Level(change.From), Level(change.To), change.ChangedOn));
        Assert.Equal((EscalationTo.LeadUnit, "HNMZT.SHSW"), (change.EscalateTo, change.Escalation));

        // Listed per item, dated; the round's list says since when.
        var history = (await _kit.Client.GetJsonAsync($"/api/v1/measures/{toYellow}/warnings")).AsArray();
        Assert.Equal([(Date(day), "notice"), (Date(day.AddDays(1)), "yellow")], history.Select(h => (Text(h!["changedOn"])!, Text(h["to"])!)));
        Assert.Empty((await _kit.Client.GetJsonAsync($"/api/v1/issues/{issueId}/warnings")).AsArray());
        using (var missing = await _kit.Client.GetAsync("/api/v1/measures/999999999/warnings", TestContext.Current.CancellationToken))
            await missing.ShouldBeProblemAsync(System.Net.HttpStatusCode.NotFound);
        var listed = (await _kit.Client.GetJsonAsync($"/api/v1/rounds/{round}/warnings"))["items"]!.AsArray();
        Assert.Equal(Date(day.AddDays(1)), Text(listed.Single(i => i!["id"]!.GetValue<long>() == toYellow)!["since"]));
        Assert.Equal(Date(day), Text(listed.Single(i => i!["id"]!.GetValue<long>() == red)!["since"]));

        // One webhook event per change (the outbox keeps events whether or not anyone subscribed).
        Assert.Equal(3, await app.ScalarAsync<long>(
            "SELECT count(*) FROM webhook_events WHERE type = 'warning.level-changed' AND (data -> 'warning' ->> 'round') = @round", new { round }));

        // The month's snapshot (a live preview through the report) counts what entered each level, and the report says so.
        var month = $"{day.AddDays(1).Year:D4}-{day.AddDays(1).Month:D2}";
        var md = await _kit.Client.GetStringAsync($"/api/v1/rounds/{round}/report?period={month}&format=md", Ct);
        var html = await _kit.Client.GetStringAsync($"/api/v1/rounds/{round}/report?period={month}&format=html", Ct);
        var sameMonth = day.Month == day.AddDays(1).Month;
        var sentence = sameMonth ? "新进入提醒1项、黄色预警1项、红色预警1项" : "黄色预警1项";
        Assert.Contains(sentence, md);
        Assert.Contains(sentence, html);
        Assert.Contains("提醒预警：", md);
    }

    static string? Level(WarningLevel? level) => level?.ToString().ToLowerInvariant();
}
