using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Conventions;

/// <summary>
/// A month or period in a route or query binds as a period before the handler runs: text that is no period, and a
/// period of another frequency where a month is asked for, are 400s naming the parameter with the month's (or the
/// period's) own message, not the binder's.
/// </summary>
public sealed class PeriodBindingTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();

    const string MonthMessage = "Use a month: YYYY-MM, e.g. 2025-10.";

    static async Task<string[]> ErrorsOfAsync(HttpResponseMessage response, string field)
    {
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        return problem["errors"]![field]!.AsArray().Select(m => m!.GetValue<string>()).ToArray();
    }

    [Theory]
    [InlineData("2025-13")]
    [InlineData("2025-Q3")]
    [InlineData("2025")]
    [InlineData("October")]
    public async Task A_snapshot_route_takes_only_a_month(string period)
    {
        using var response = await _client.GetAsync($"/api/v1/rounds/HN-X/snapshots/{period}", TestContext.Current.CancellationToken);
        Assert.Equal([MonthMessage], await ErrorsOfAsync(response, "period"));
    }

    [Theory]
    [InlineData("2025-Q3")]
    [InlineData("soon")]
    public async Task A_snapshot_diff_compares_with_a_month_only(string against)
    {
        using var response = await _client.GetAsync($"/api/v1/rounds/HN-X/snapshots/2025-10/diff?against={against}", TestContext.Current.CancellationToken);
        Assert.Equal([MonthMessage], await ErrorsOfAsync(response, "against"));
    }

    [Fact]
    public async Task A_value_list_takes_periods_of_any_frequency_and_refuses_other_text()
    {
        using (var any = await _client.GetAsync("/api/v1/data-values?from=2025-Q1&to=2025", TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.OK, any.StatusCode);
        using var text = await _client.GetAsync("/api/v1/data-values?from=2025-Q5", TestContext.Current.CancellationToken);
        Assert.Equal(["Use a period: YYYY-MM, YYYY-Qn or YYYY, e.g. 2025-09."], await ErrorsOfAsync(text, "from"));
    }
}
