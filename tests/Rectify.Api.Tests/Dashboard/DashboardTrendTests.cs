using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Dashboard;

/// <summary>
/// The completion-rate trend reads the stored snapshots (rows inserted here as the snapshot feature stores them: the
/// summary inside the content), one point per month from its latest revision, oldest first, the last 24 months.
/// </summary>
public sealed class DashboardTrendTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly DashboardKit _kit = new(app);

    /// <summary>Stores one snapshot revision of <paramref name="round"/>; a null rate is stored as JSON null.</summary>
    Task SnapshotAsync(string round, string period, int revision, string status, decimal? completionRate)
        => app.ScalarAsync<int>("""
            INSERT INTO snapshots (round_id, period, revision, status, origin, content, reason, created_by, created_at, updated_by, updated_at,
                                   published_by, published_at)
            SELECT r.id, @period, @revision, @status, 'pushed',
                   jsonb_build_object('summary', jsonb_build_object('completionRate', @completionRate::numeric, 'measures', 10)),
                   CASE WHEN @revision > 1 THEN '更正统计口径' END, 'test-suite', now(), 'test-suite', now(),
                   CASE WHEN @status = 'published' THEN 'test-suite' END, CASE WHEN @status = 'published' THEN now() END
            FROM rounds r WHERE r.code = @round;
            SELECT 1;
            """, new { round, period, revision, status, completionRate });

    [Fact]
    public async Task Each_month_shows_the_completion_rate_of_its_latest_revision_oldest_first()
    {
        var round = await _kit.Seed.RoundAsync();
        var other = await _kit.Seed.RoundAsync();
        await SnapshotAsync(round, "2025-05", 1, "draft", null);
        await SnapshotAsync(round, "2025-03", 1, "published", 10.5m);
        await SnapshotAsync(round, "2025-04", 1, "published", 20m);
        await SnapshotAsync(round, "2025-04", 3, "draft", 27.5m);
        await SnapshotAsync(round, "2025-04", 2, "published", 25m);
        await SnapshotAsync(other, "2025-04", 4, "published", 99m);
        await SnapshotAsync(other, "2025-06", 1, "draft", 98m);

        var trend = (await _kit.DashboardAsync(round))["trend"]!.AsArray();

        Assert.Equal(
            [("2025-03", 1, "published", (decimal?)10.5m), ("2025-04", 3, "draft", 27.5m), ("2025-05", 1, "draft", null)],
            trend.Select(p => (DashboardKit.Text(p!["period"]), DashboardKit.Int(p["revision"]), DashboardKit.Text(p["status"]), DashboardKit.Decimal(p["completionRate"]))));
    }

    [Fact]
    public async Task The_trend_covers_the_last_24_months()
    {
        var round = await _kit.Seed.RoundAsync();
        var start = new DateOnly(2023, 1, 1);
        for (var month = 0; month < 30; month++)
        {
            await SnapshotAsync(round, start.AddMonths(month).ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), 1, "published", month);
        }

        var trend = (await _kit.DashboardAsync(round))["trend"]!.AsArray();

        Assert.Equal(24, trend.Count);
        Assert.Equal("2023-07", DashboardKit.Text(trend[0]!["period"]));
        Assert.Equal("2025-06", DashboardKit.Text(trend[^1]!["period"]));
        Assert.Equal(Enumerable.Range(6, 24).Select(m => (decimal?)m), trend.Select(p => DashboardKit.Decimal(p!["completionRate"])));
    }
}
