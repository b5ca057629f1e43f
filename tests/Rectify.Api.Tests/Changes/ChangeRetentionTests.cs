using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.Features.Changes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Changes;

/// <summary>
/// Entries older than the retention are pruned, except the last entry of each existing entity: a cursor from before
/// the pruning gets 410, and a consumer that starts again from the beginning still ends with the current state.
/// </summary>
public sealed class ChangeRetentionTests(ChangeRetentionTests.App app) : IClassFixture<ChangeRetentionTests.App>
{
    public sealed class App(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Rectify:Changes:Retention", "1.00:00:00");
            builder.UseSetting("Rectify:Changes:Prune", "false"); // the test prunes by hand, once its clock has moved
        }
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly ChangeKit _kit = new(app);

    [Fact]
    public async Task A_cursor_from_before_pruned_changes_is_a_410_and_a_fresh_start_still_gives_the_current_state()
    {
        var seed = new Seed(app);
        var round = await seed.RoundAsync();
        var issue = (await seed.IssueAsync(round))["id"]!.GetValue<long>();
        var (_, old) = await _kit.FollowAsync(null);
        await new Issues.IssueKit(app).MoveAsync(issue, "in_progress");

        // The database's clock is real time; the app's clock moves two years on, so every entry is past the retention.
        app.Clock.Advance(TimeSpan.FromDays(800));
        var pruned = await app.Services.GetRequiredService<ChangePruning>().RunOnceAsync(Ct);
        Assert.True(pruned > 0);

        using (var expired = await _kit.Client.GetAsync($"/api/v1/changes?after={old}", Ct))
            await expired.ShouldBeProblemAsync(HttpStatusCode.Gone, "cursor-expired");

        var (items, _) = await _kit.FollowUntilAsync(null, seen => seen.Any(i => ChangeKit.Id(i) == $"issue:{issue}"));
        var copy = ChangeKit.Replay(items);
        Assert.Equal("in_progress", copy[("issue", issue.ToString(System.Globalization.CultureInfo.InvariantCulture))]["state"]!.GetValue<string>());
        Assert.Single(items, i => ChangeKit.Id(i) == $"issue:{issue}"); // the superseded entry is gone, the last one kept
        Assert.Contains(items, i => i["type"]!.GetValue<string>() == "round" && i["key"]!["code"]!.GetValue<string>() == round);

        // What pruning kept lies below the horizon: a fresh consumer pages through it one entry at a time without a 410,
        // and its cursor stays valid until pruning removes entries again.
        var (paged, _) = await _kit.FollowAsync(null, limit: 1);
        Assert.Equal(items.Select(ChangeKit.Id), paged.Select(ChangeKit.Id));
        var firstPage = (await _kit.Client.GetJsonAsync("/api/v1/changes?limit=1"))["nextCursor"]!.GetValue<string>();
        await new Issues.IssueKit(app).MoveAsync(issue, "pending_review");
        app.Clock.Advance(TimeSpan.FromDays(800));
        Assert.True(await app.Services.GetRequiredService<ChangePruning>().RunOnceAsync(Ct) > 0);
        using (var expired = await _kit.Client.GetAsync($"/api/v1/changes?after={firstPage}", Ct))
            await expired.ShouldBeProblemAsync(HttpStatusCode.Gone, "cursor-expired");
    }
}
