using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Conventions;

/// <summary>
/// States and kinds in query strings are spelled as in the bodies and the OpenAPI document (snake_case): those
/// values filter, and any other spelling (PascalCase, numbers) is a 400 naming the parameter, not an empty list.
/// </summary>
public sealed class EnumQueryFilterTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();
    readonly Seed _seed = new(app);

    static IEnumerable<string> Values(JsonNode page, string field) => page["items"]!.AsArray().Select(i => i![field]!.GetValue<string>());

    [Fact]
    public async Task Units_filter_by_the_documented_kind_names()
    {
        await _seed.UnitsAsync();
        Assert.Equal(["HNMZT.SHJZ", "HNMZT.SHSW"],
            Values(await _client.GetJsonAsync("/api/v1/units?kind=division"), "code").Order(StringComparer.Ordinal));
        Assert.Equal(["HNMZT"], Values(await _client.GetJsonAsync("/api/v1/units?kind=department"), "code"));
    }

    [Fact]
    public async Task Rounds_filter_by_the_documented_state_names()
    {
        var round = await _seed.RoundAsync();
        var page = await _client.GetJsonAsync("/api/v1/rounds?state=rectifying&limit=200");
        Assert.Contains(round, Values(page, "code"));
        Assert.All(Values(page, "state"), s => Assert.Equal("rectifying", s));
    }

    [Fact]
    public async Task Issues_filter_by_the_documented_state_names()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var page = await _client.GetJsonAsync($"/api/v1/issues?round={round}&state=open");
        Assert.Equal([issue["id"]!.GetValue<long>()], page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()));
        var inProgress = await _client.GetJsonAsync($"/api/v1/issues?round={round}&state=in_progress");
        Assert.Empty(inProgress["items"]!.AsArray());
    }

    [Fact]
    public async Task Measures_filter_by_the_documented_state_and_traffic_light_names()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var measure = await _seed.MeasureAsync(issue["id"]!.GetValue<long>(), dueDate: "2025-12-31");
        var id = measure["id"]!.GetValue<long>();
        Assert.Equal([id],
            (await _client.GetJsonAsync($"/api/v1/measures?round={round}&state=planned"))["items"]!.AsArray()
            .Select(m => m!["id"]!.GetValue<long>()));
        Assert.Equal([id],
            (await _client.GetJsonAsync($"/api/v1/measures?round={round}&trafficLight=green"))["items"]!.AsArray()
            .Select(m => m!["id"]!.GetValue<long>()));
        Assert.Empty((await _client.GetJsonAsync($"/api/v1/measures?round={round}&state=in_progress"))["items"]!.AsArray());
    }

    [Theory]
    [InlineData("/api/v1/units?kind=County", "kind")]
    [InlineData("/api/v1/units?kind=3", "kind")]
    [InlineData("/api/v1/units?kind=99", "kind")]
    [InlineData("/api/v1/rounds?state=Rectifying", "state")]
    [InlineData("/api/v1/rounds?state=2", "state")]
    [InlineData("/api/v1/issues?state=InProgress", "state")]
    [InlineData("/api/v1/measures?state=99", "state")]
    [InlineData("/api/v1/measures?trafficLight=Red", "trafficLight")]
    public async Task Other_spellings_are_refused_naming_the_parameter(string url, string parameter)
    {
        using var response = await _client.GetAsync(url, TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]![parameter]);
    }
}
