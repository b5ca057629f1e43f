using System.Net;
using Microsoft.AspNetCore.Hosting;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Snapshots;

namespace Rectify.Api.Tests.Access;

/// <summary>
/// Rectify:Access:ReadsLimitedToUnits on: a client limited to units reads only their rows, in the queries
/// themselves (lists, single reads, exports, series, deletions), and not the views of whole rounds.
/// </summary>
public sealed class ReadScopeTests(ReadScopeTests.App app) : IClassFixture<ReadScopeTests.App>
{
    public sealed class App(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Rectify:Access:ReadsLimitedToUnits", "true");
        }
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly SnapshotKit _kit = new(app);

    static long[] Ids(System.Text.Json.Nodes.JsonNode page) => page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()).ToArray();

    [Fact]
    public async Task A_division_reads_its_own_measures_and_the_issues_it_works_on_only()
    {
        // Issue 1 (led by 社会事务处 HNMZT.SHSW) has measures 1.1 and 1.2 of SHSW; issue 2 (also led by SHSW) has 2.1 of 社会救助处 HNMZT.SHJZ.
        var round = await _kit.RoundAsync();
        var division = app.ClientWith(await app.CreateClientAsync(Seed.Unique("shjz"), [Scopes.Read], units: ["HNMZT.SHJZ"]));

        Assert.Equal([round.Measures[2]], Ids(await division.GetJsonAsync($"/api/v1/measures?round={round.Code}")));
        Assert.Equal([round.IssueB], Ids(await division.GetJsonAsync($"/api/v1/issues?round={round.Code}")));
        using (var other =
            await division.GetAsync($"/api/v1/measures/{round.Measures[0]}", Ct)) await other.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        using (var otherIssue =
            await division.GetAsync($"/api/v1/issues/{round.IssueA}", Ct)) await otherIssue.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        var issue = await division.GetJsonAsync($"/api/v1/issues/{round.IssueB}");
        Assert.Equal([round.Measures[2]], issue["measures"]!.AsArray().Select(m => m!["id"]!.GetValue<long>()));

        using var csv = await division.GetAsync($"/api/v1/measures/export?round={round.Code}", Ct);
        var text = await csv.Content.ReadAsStringAsync(Ct);
        Assert.Equal(2, text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length); // the header and 2.1

        // The department above both divisions reads all three; a client without units reads everything.
        var department = app.ClientWith(await app.CreateClientAsync(Seed.Unique("hnmzt"), [Scopes.Read], units: ["HNMZT"]));
        Assert.Equal(3, Ids(await department.GetJsonAsync($"/api/v1/measures?round={round.Code}")).Length);
        Assert.Equal(3, Ids(await _kit.Client.GetJsonAsync($"/api/v1/measures?round={round.Code}")).Length);
    }

    [Fact]
    public async Task A_city_reads_the_values_of_its_region_only_and_no_whole_round_views()
    {
        var round = await _kit.RoundAsync();
        await _kit.Indicators.PushAsync((round.Indicator, "460000", "2025-04", 100m), (round.Indicator, "460100", "2025-04", 40m),
            (round.Indicator, "460105", "2025-04", 15m));
        var haikou = app.ClientWith(await app.CreateClientAsync(Seed.Unique("haikou"), [Scopes.Read], units: ["460100"]));

        var values = await haikou.GetJsonAsync($"/api/v1/data-values?indicator={round.Indicator}");
        Assert.Equal(["460100", "460105"], values["items"]!.AsArray().Select(v => v!["unit"]!.GetValue<string>()));
        using (var series = await haikou.GetAsync($"/api/v1/indicators/{round.Indicator}/series?unit=460000&from=2025-04&to=2025-04", Ct))
            await series.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        using (var own = await haikou.GetAsync($"/api/v1/indicators/{round.Indicator}/series?unit=460100&from=2025-04&to=2025-04", Ct))
            await own.ShouldBeAsync(HttpStatusCode.OK);

        await _kit.PushOkAsync(round, "2025-04", new { narrative = "x" });
        foreach (var url in new[] { round.Url("2025-04"), $"/api/v1/rounds/{round.Code}/snapshots", $"/api/v1/rounds/{round.Code}/dashboard",
                     $"/api/v1/rounds/{round.Code}/report?period=2025-04", "/api/v1/journal" })
        {
            using var refused = await haikou.GetAsync(url, Ct);
            await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        }
    }
}
