using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>The month-end job, run by hand under the fixed clock (2025-06-15, so May is the month just ended).</summary>
public sealed class MonthEndDraftTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);

    Task<long> SnapshotsAsync(string round, string period) => app.ScalarAsync<long>(
        "SELECT count(*) FROM snapshots s JOIN rounds r ON r.id = s.round_id WHERE r.code = @round AND s.period = @period", new { round, period });

    /// <summary>Another node's job: its own instance on the same database (and, when given, its own clock).</summary>
    MonthEndDrafts Node(DateTimeOffset? now = null)
    {
        var clock = now is { } at ? new Clock(new FakeTimeProvider(at), app.Services.GetRequiredService<IOptions<RectifyOptions>>()) : app.Services.GetRequiredService<Clock>();
        return ActivatorUtilities.CreateInstance<MonthEndDrafts>(app.Services, clock);
    }

    [Fact]
    public async Task Two_competing_nodes_draft_exactly_one_snapshot_per_round()
    {
        var rounds = new[] { await _kit.RoundAsync(), await _kit.RoundAsync(), await _kit.RoundAsync() };
        var runs = await Task.WhenAll(Node().RunOnceAsync(TestContext.Current.CancellationToken), Node().RunOnceAsync(TestContext.Current.CancellationToken));

        Assert.All(runs, run => Assert.Equal("2025-05", run.Period));
        foreach (var round in rounds)
        {
            Assert.Equal(1, await SnapshotsAsync(round.Code, "2025-05"));
            Assert.Equal(1, runs.Sum(r => r.Drafted.Count(code => code == round.Code)));
        }

        var snapshot = await _kit.GetAsync(rounds[0], "2025-05");
        Assert.Equal("drafted", snapshot["origin"]!.GetValue<string>());
        Assert.Equal("draft", snapshot["status"]!.GetValue<string>());
        Assert.Equal(SnapshotRepository.MonthEndJob, snapshot["createdBy"]!.GetValue<string>());
        Assert.Equal(3, snapshot["content"]!["summary"]!["measures"]!.GetValue<int>());

        // Run again, here or elsewhere: nothing more.
        var again = await Node().RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain(again.Drafted, code => rounds.Any(r => r.Code == code));
        foreach (var round in rounds) Assert.Equal(1, await SnapshotsAsync(round.Code, "2025-05"));
    }

    [Fact]
    public async Task A_pushed_month_is_left_alone_and_a_drafted_one_takes_a_later_push()
    {
        var pushed = await _kit.RoundAsync();
        await _kit.PushOkAsync(pushed, "2025-05", new { narrative = "已推送" });
        var drafted = await _kit.RoundAsync();

        var run = await Node().RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain(pushed.Code, run.Drafted);
        Assert.Contains(drafted.Code, run.Drafted);
        Assert.Equal("已推送", (await _kit.GetAsync(pushed, "2025-05"))["narrative"]!.GetValue<string>());

        var answer = await _kit.PushOkAsync(drafted, "2025-05", new { narrative = "补充说明" });
        Assert.Equal(1, answer["snapshot"]!["revision"]!.GetValue<int>());
        Assert.Equal("pushed", answer["snapshot"]!["origin"]!.GetValue<string>());
        Assert.Equal(1, await SnapshotsAsync(drafted.Code, "2025-05"));
    }

    [Fact]
    public async Task Before_the_configured_time_after_month_end_nothing_is_drafted()
    {
        var round = await _kit.RoundAsync();
        // 2025-07-01 01:00 in Shanghai: June is over, but the drafts are due two hours after midnight.
        var early = await Node(new DateTimeOffset(2025, 7, 1, 1, 0, 0, TimeSpan.FromHours(8))).RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.False(early.Due);
        Assert.Equal(0, await SnapshotsAsync(round.Code, "2025-06"));

        var due = await Node(new DateTimeOffset(2025, 7, 1, 2, 0, 0, TimeSpan.FromHours(8))).RunOnceAsync(TestContext.Current.CancellationToken);
        Assert.True(due.Due);
        Assert.Contains(round.Code, due.Drafted);
        Assert.Equal(1, await SnapshotsAsync(round.Code, "2025-06"));
    }
}

/// <summary>The hosted job itself: enabled, it drafts the month just ended when the clock passes the due time.</summary>
public sealed class MonthEndJobTests(MonthEndJobTests.App app) : IClassFixture<MonthEndJobTests.App>
{
    public sealed class App(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Rectify:Snapshots:MonthEndDrafts", "true");
            builder.UseSetting("Rectify:Snapshots:CheckInterval", "00:05:00");
        }
    }

    [Fact]
    public async Task The_running_job_drafts_june_once_the_clock_passes_july_first_two_oclock()
    {
        var kit = new SnapshotKit(app);
        var round = await kit.RoundAsync();
        Task<long> JuneAsync() => app.ScalarAsync<long>(
            "SELECT count(*) FROM snapshots s JOIN rounds r ON r.id = s.round_id WHERE r.code = @code AND s.period = '2025-06'", new { code = round.Code });

        // 2025-07-01 02:10 in Shanghai; the job's next check (every 5 minutes of the test clock) finds June due.
        app.Clock.SetUtcNow(new DateTimeOffset(2025, 7, 1, 2, 10, 0, TimeSpan.FromHours(8)));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await JuneAsync() == 0 && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            app.Clock.Advance(TimeSpan.FromMinutes(5));
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        Assert.Equal(1, await JuneAsync());

        // Later checks in the same month change nothing.
        for (var i = 0; i < 5; i++)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(5));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Equal(1, await JuneAsync());
        Assert.Equal("drafted", (await kit.GetAsync(round, "2025-06"))["origin"]!.GetValue<string>());
    }
}
