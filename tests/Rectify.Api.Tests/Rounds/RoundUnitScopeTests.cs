using System.Net;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Rounds;

/// <summary>A client limited to units creates and changes only rounds whose inspected unit it holds, and keeps them there.</summary>
public sealed class RoundUnitScopeTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();
    readonly Seed _seed = new(app);

    static object Body(string inspectedUnit, string? code = null, string name = "八届省委第六轮巡视") => new
    {
        code, name, inspectedUnit, inspectionBody = "第六巡视组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31", state = "rectifying",
    };

    async Task<HttpClient> LimitedToAsync(string unit)
        => app.ClientWith(await app.CreateClientAsync(Seed.Unique(unit), [Scopes.Read, Scopes.Write], units: [unit]));

    [Fact]
    public async Task A_city_creates_rounds_only_of_its_region()
    {
        await _seed.UnitsAsync();
        var haikou = await LimitedToAsync("460100");

        using (var foreign = await haikou.PostJsonAsync("/api/v1/rounds", Body("HNMZT", Seed.Unique("R"))))
            Assert.Contains("'HNMZT'", (await foreign.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]!.GetValue<string>());
        using var own = await haikou.PostJsonAsync("/api/v1/rounds", Body("460105", Seed.Unique("R")));
        await own.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_city_changes_only_its_rounds_and_keeps_them_in_its_region()
    {
        var departmentRound = await _seed.RoundAsync(); // inspects HNMZT
        var haikou = await LimitedToAsync("460100");
        var cityRound = Seed.Unique("R");
        using (var created =
            await haikou.PostJsonAsync("/api/v1/rounds", Body("460100", cityRound))) await created.ShouldBeAsync(HttpStatusCode.Created);

        using (var read = await _client.GetAsync($"/api/v1/rounds/{departmentRound}", TestContext.Current.CancellationToken))
        {
            using var foreign = await haikou.PutJsonAsync($"/api/v1/rounds/{departmentRound}", Body("HNMZT", name: "改名"), read.ETag());
            Assert.Contains("'HNMZT'", (await foreign.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]!.GetValue<string>());
            using var takeOver = await haikou.PutJsonAsync($"/api/v1/rounds/{departmentRound}", Body("460100"), read.ETag());
            await takeOver.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        }
        Assert.Equal("HNMZT",
            await app.ScalarAsync<string>("SELECT inspected_unit_code FROM rounds WHERE code = @departmentRound", new { departmentRound }));

        using (var read = await _client.GetAsync($"/api/v1/rounds/{cityRound}", TestContext.Current.CancellationToken))
        {
            using var away = await haikou.PutJsonAsync($"/api/v1/rounds/{cityRound}", Body("HNMZT"), read.ETag());
            Assert.Contains("'HNMZT'", (await away.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden"))["detail"]!.GetValue<string>());
            using var within = await haikou.PutJsonAsync($"/api/v1/rounds/{cityRound}", Body("460105", name: "秀英区专项巡察"), read.ETag());
            Assert.Equal("460105", (await within.ShouldBeAsync(HttpStatusCode.OK))["inspectedUnit"]!.GetValue<string>());
        }
    }
}
