using System.Net;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;

namespace Rectify.Api.Tests.Measures;

/// <summary>
/// A client limited to units creates measures only for its units, changes only measures they own (the owner before
/// the change and after it), and reports progress and evidence only on those.
/// </summary>
public sealed class MeasureUnitScopeTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);

    async Task<HttpClient> DivisionAsync()
        => app.ClientWith(await app.CreateClientAsync(Seed.Unique("shjz"), [Scopes.Read, Scopes.Write], units: ["HNMZT.SHJZ"]));

    static async Task RefusedNamingAsync(HttpResponseMessage response, string unit)
        => Assert.Contains($"'{unit}'", (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]!.GetValue<string>());

    [Fact]
    public async Task Measures_are_created_only_for_the_clients_units()
    {
        var issue = IssueKit.Id(await _kit.Seed.IssueAsync(await _kit.Seed.RoundAsync()));
        var shjz = await DivisionAsync();
        object Body(string owner) => new { issueId = issue, code = Seed.Unique("M"), title = "整治殡葬乱象", ownerUnit = owner, dueDate = "2025-12-31" };

        using (var foreign = await shjz.PostJsonAsync("/api/v1/measures", Body("HNMZT.SHSW"))) await RefusedNamingAsync(foreign, "HNMZT.SHSW");
        using var own = await shjz.PostJsonAsync("/api/v1/measures", Body("HNMZT.SHJZ"));
        await own.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_measure_changes_owner_only_between_the_clients_units()
    {
        var issue = IssueKit.Id(await _kit.Seed.IssueAsync(await _kit.Seed.RoundAsync()));
        var theirs = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, owner: "HNMZT.SHSW"));
        var ours = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, owner: "HNMZT.SHJZ"));
        var shjz = await DivisionAsync();

        foreach (var (id, newOwner, named) in new[] { (theirs, "HNMZT.SHJZ", "HNMZT.SHSW"), (ours, "HNMZT.SHSW", "HNMZT.SHSW") })
        {
            using var read = await _kit.Client.GetAsync($"/api/v1/measures/{id}", TestContext.Current.CancellationToken);
            var measure = await read.ShouldBeAsync(HttpStatusCode.OK);
            using var moved = await shjz.PutJsonAsync($"/api/v1/measures/{id}", new
            {
                title = "整治殡葬乱象", ownerUnit = newOwner, dueDate = measure["dueDate"]!.GetValue<string>(), state = "in_progress",
            }, read.ETag());
            await RefusedNamingAsync(moved, named);
        }
        Assert.Equal("HNMZT.SHSW", await app.ScalarAsync<string>("SELECT owner_unit_code FROM measures WHERE id = @theirs", new { theirs }));
        Assert.Equal("HNMZT.SHJZ", await app.ScalarAsync<string>("SELECT owner_unit_code FROM measures WHERE id = @ours", new { ours }));
    }

    [Fact]
    public async Task Progress_and_evidence_are_reported_only_on_the_clients_measures()
    {
        var issue = IssueKit.Id(await _kit.Seed.IssueAsync(await _kit.Seed.RoundAsync()));
        var theirs = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, owner: "HNMZT.SHSW"));
        var ours = IssueKit.Id(await _kit.Seed.MeasureAsync(issue, owner: "HNMZT.SHJZ"));
        var shjz = await DivisionAsync();
        var progress = new { reportedOn = IssueKit.Iso(_kit.Today), percent = 50, note = "按月报送进展" };
        var evidence = new { title = Seed.Unique("《海南省公墓管理办法》"), issuedOn = "2025-05-01" };

        using (var p = await shjz.PostJsonAsync($"/api/v1/measures/{theirs}/progress", progress)) await RefusedNamingAsync(p, "HNMZT.SHSW");
        using (var e = await shjz.PostJsonAsync($"/api/v1/measures/{theirs}/evidence", evidence)) await RefusedNamingAsync(e, "HNMZT.SHSW");
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM measure_progress WHERE measure_id = @theirs", new { theirs })
            + await app.ScalarAsync<long>("SELECT count(*) FROM measure_evidence WHERE measure_id = @theirs", new { theirs }));

        using (var p = await shjz.PostJsonAsync($"/api/v1/measures/{ours}/progress", progress)) await p.ShouldBeAsync(HttpStatusCode.Created);
        using (var e = await shjz.PostJsonAsync($"/api/v1/measures/{ours}/evidence", evidence)) await e.ShouldBeAsync(HttpStatusCode.Created);
    }
}
