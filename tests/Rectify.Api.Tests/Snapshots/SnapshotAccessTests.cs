using System.Net;
using Microsoft.AspNetCore.Hosting;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>Who may push, publish and read snapshots: scopes, the client's units (BOLA), and public read when configured.</summary>
public sealed class SnapshotAccessTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pushing_needs_push_and_publishing_needs_review()
    {
        var round = await _kit.RoundAsync();
        var reader = app.ClientWith(await app.CreateClientAsync(Seed.Unique("reader"), [Scopes.Read]));
        using var readOnly = await reader.PutJsonAsync(round.Url("2025-04"), new { narrative = "x" }, ifMatch: null);
        var problem = await readOnly.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("push", problem["detail"]!.GetValue<string>());

        var pusher = app.ClientWith(await app.CreateClientAsync(Seed.Unique("pusher"), [Scopes.Push]));
        using var pushed = await pusher.PutJsonAsync(round.Url("2025-04"), new { narrative = "x" }, ifMatch: null);
        var answer = await pushed.ShouldBeAsync(HttpStatusCode.OK);
        Assert.StartsWith("pusher", answer["snapshot"]!["createdBy"]!.GetValue<string>());
        using var publish = await pusher.PostJsonAsync($"{round.Url("2025-04")}/publish", new { });
        problem = await publish.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("review", problem["detail"]!.GetValue<string>());

        using var anonymous = await app.ClientWith(null).GetAsync(round.Url("2025-04"), Ct);
        await anonymous.ShouldBeProblemAsync(HttpStatusCode.Unauthorized); // public read is off by default
    }

    [Fact]
    public async Task A_client_limited_to_units_cannot_push_values_or_progress_outside_them()
    {
        var round = await _kit.RoundAsync();
        var haikou = app.ClientWith(await app.CreateClientAsync(Seed.Unique("haikou"), [Scopes.Push], units: ["460100"]));

        using var foreignValue = await haikou.PutJsonAsync(round.Url("2025-04"), new
        {
            values = new object[]
            {
                new { indicator = round.Indicator, unit = "460105", value = 3m }, // below Haikou: allowed
                new { indicator = round.Indicator, unit = "460000", value = 9m }, // the province: not
            },
        }, ifMatch: null);
        var problem = await foreignValue.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("values[1]", problem["detail"]!.GetValue<string>());

        using var foreignMeasure = await haikou.PutJsonAsync(round.Url("2025-04"), new
        {
            progress = new object[] { new { measureId = round.Measures[0], percent = 20m } }, // owned by HNMZT.SHSW
        }, ifMatch: null);
        await foreignMeasure.ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        // Several lines outside the client's units: one 403 names every one of them.
        using var foreignMeasures = await haikou.PutJsonAsync(round.Url("2025-04"), new
        {
            progress = new object[] { new { measureId = round.Measures[0], percent = 20m }, new { measureId = round.Measures[2], percent = 30m } },
        }, ifMatch: null);
        var detail = (await foreignMeasures.ShouldBeProblemAsync(HttpStatusCode.Forbidden))["detail"]!.GetValue<string>();
        Assert.Contains($"measure {round.Measures[0]} (unit 'HNMZT.SHSW')", detail);
        Assert.Contains($"measure {round.Measures[2]} (unit 'HNMZT.SHJZ')", detail);

        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM snapshots s JOIN rounds r ON r.id = s.round_id WHERE r.code = @code", new { code = round.Code }));
        Assert.Equal(0m, await app.ScalarAsync<decimal>("SELECT progress FROM measures WHERE id = @id", new { id = round.Measures[0] }));

        using var own = await haikou.PutJsonAsync(round.Url("2025-04"), new { values = new object[] { new { indicator = round.Indicator, unit = "460105", value = 3m } } }, ifMatch: null);
        await own.ShouldBeAsync(HttpStatusCode.OK);
    }
}

/// <summary>The service with public read on: published snapshots are readable without a key, nothing else is.</summary>
public sealed class PublicReadTests(PublicReadTests.App app) : IClassFixture<PublicReadTests.App>
{
    public sealed class App(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Rectify:Access:PublicRead", "true");
        }
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_a_key_only_published_revisions_are_served_and_cacheable()
    {
        var kit = new SnapshotKit(app);
        var round = await kit.RoundAsync();
        await kit.PushOkAsync(round, "2025-05", new { narrative = "已发布版" });
        await kit.PublishOkAsync(round, "2025-05");
        await kit.PushOkAsync(round, "2025-05", new { narrative = "更正草稿", revisionReason = "数据更正" });
        await kit.PushOkAsync(round, "2025-06", new { narrative = "草稿" });
        var anonymous = app.ClientWith(null);

        using var published = await anonymous.GetAsync(round.Url("2025-05"), Ct);
        var body = await published.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal(1, body["revision"]!.GetValue<int>()); // not the draft correction above it
        Assert.Equal("已发布版", body["narrative"]!.GetValue<string>());
        Assert.True(published.Headers.CacheControl is { Public: true }, published.Headers.CacheControl?.ToString());

        using var draft = await anonymous.GetAsync(round.Url("2025-06"), Ct);
        await draft.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        using var draftRevision = await anonymous.GetAsync($"{round.Url("2025-05")}?revision=2", Ct);
        await draftRevision.ShouldBeProblemAsync(HttpStatusCode.NotFound);

        // A keyed reader still sees the draft correction; a bad key is refused rather than treated as public.
        Assert.Equal(2, (await kit.GetAsync(round, "2025-05"))["revision"]!.GetValue<int>());
        using var badKey = await app.ClientWith("rfy_abcdefgh_" + new string('x', 43)).GetAsync(round.Url("2025-05"), Ct);
        await badKey.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);

        // The progress report: the published month for everybody, a draft month not at all.
        using var report = await anonymous.GetAsync($"/api/v1/rounds/{round.Code}/report?period=2025-05&format=md", Ct);
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Contains("已发布", await report.Content.ReadAsStringAsync(Ct));
        Assert.True(report.Headers.CacheControl is { Public: true }, report.Headers.CacheControl?.ToString());
        using var draftReport = await anonymous.GetAsync($"/api/v1/rounds/{round.Code}/report?period=2025-06", Ct);
        await draftReport.ShouldBeProblemAsync(HttpStatusCode.NotFound);

        // Everything else still needs a key.
        using var list = await anonymous.GetAsync($"/api/v1/rounds/{round.Code}/snapshots", Ct);
        await list.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        using var push = await anonymous.PutJsonAsync(round.Url("2025-06"), new { narrative = "x" }, ifMatch: null);
        await push.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        using var dashboard = await anonymous.GetAsync($"/api/v1/rounds/{round.Code}/dashboard", Ct);
        await dashboard.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_public_report_charts_each_month_as_published_even_under_a_draft_correction()
    {
        var kit = new SnapshotKit(app);
        var round = await kit.RoundAsync();
        await kit.PushOkAsync(round, "2025-03", new { narrative = "3月" });
        await kit.PublishOkAsync(round, "2025-03"); // 0 of 3 measures done: 0%
        await kit.PushOkAsync(round, "2025-03", new
        {
            revisionReason = "补报完成情况", progress = new object[] { new { measureId = round.Measures[0], percent = 100m, reportedOn = "2025-03-31" } },
        }); // a draft correction at 33.33%, not public
        await kit.PushOkAsync(round, "2025-04", new { narrative = "4月" });
        await kit.PublishOkAsync(round, "2025-04");

        using var report = await app.ClientWith(null).GetAsync($"/api/v1/rounds/{round.Code}/report?period=2025-04&format=md", Ct);
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        var march = (await report.Content.ReadAsStringAsync(Ct)).Split('\n').Single(line => line.StartsWith("| 2025-03 |", StringComparison.Ordinal));
        Assert.StartsWith("| 2025-03 | 0 |", march);
    }
}
