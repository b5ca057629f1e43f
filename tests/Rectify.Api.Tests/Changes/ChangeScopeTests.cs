using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Changes;

/// <summary>With reads limited to units, a client limited to units follows only its units' changes.</summary>
public sealed class ChangeScopeTests(ReadScopeTests.App app) : IClassFixture<ReadScopeTests.App>
{
    readonly ImportKit _import = new(app);

    [Fact]
    public async Task A_division_follows_only_its_own_units_changes_and_no_clients()
    {
        var round = await _import.Seed.RoundAsync();
        var issue = (await _import.Seed.IssueAsync(round))["id"]!.GetValue<long>(); // led by HNMZT.SHSW
        var own = (await _import.Seed.MeasureAsync(issue, owner: "HNMZT.SHJZ"))["id"]!.GetValue<long>();
        var other = (await _import.Seed.MeasureAsync(issue, owner: "HNMZT.SHSW"))["id"]!.GetValue<long>();
        var indicator = await _import.IndicatorAsync();
        await ImportKit.AppliedAsync(await _import.PushCsvAsync(ImportKit.Csv([$"{indicator},460105,2025-04,1,",
            $"{indicator},HNMZT.SHJZ,2025-04,2,"])));

        var division = app.ClientWith(await app.CreateClientAsync(Seed.Unique("shjz"), [Scopes.Read], units: ["HNMZT.SHJZ"]));
        var (items, _) = await ChangeKit.FollowUntilAsync(division, null,
            seen => seen.Any(i => ChangeKit.Id(i) == $"data-value:{indicator}/HNMZT.SHJZ/2025-04"));
        var seen = items.Select(ChangeKit.Id).ToHashSet();

        Assert.Contains($"measure:{own}", seen);
        Assert.DoesNotContain($"measure:{other}", seen);
        Assert.Contains($"issue:{issue}", seen); // it works on the issue, as the issue list shows it
        Assert.Contains($"data-value:{indicator}/HNMZT.SHJZ/2025-04", seen);
        Assert.DoesNotContain($"data-value:{indicator}/460105/2025-04", seen);
        Assert.DoesNotContain(items, i => i["type"]!.GetValue<string>() is "client" or "snapshot");

        var (everything, _) = await ChangeKit.FollowAsync(app.Client(), null, limit: 100);
        Assert.Contains(everything, i => i["type"]!.GetValue<string>() == "client"); // the test suite's admin sees clients
    }
}
