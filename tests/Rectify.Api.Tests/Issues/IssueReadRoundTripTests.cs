using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>
/// A read of one issue or one measure is one database command (one round trip): the issue with its sub-issues and its
/// measures in one batch, the measure with its progress entries and evidence in one batch, and no key lookup for a key
/// verified moments ago (see <see cref="CommandTrace"/>).
/// </summary>
public sealed class IssueReadRoundTripTests(RectifyApp app, ITestOutputHelper output) : IClassFixture<RectifyApp>
{
    readonly Seed _seed = new(app);

    async Task<(HttpResponseMessage Response, int Commands)> TracedGetAsync(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Consistency", "strong"); // the work of a read that reaches the database, not one the node's read cache answers
        var (response, commands) = await CommandTrace.SendAsync(app.Client(), request, output);
        return (response, commands.Count);
    }

    [Fact]
    public async Task An_issue_with_its_sub_issues_and_measures_is_read_in_one_round_trip()
    {
        var round = await _seed.RoundAsync();
        var issue = (await _seed.IssueAsync(round))["id"]!.GetValue<long>();
        var sub = (await _seed.IssueAsync(round, parentId: issue))["id"]!.GetValue<long>();
        var measure = (await _seed.MeasureAsync(issue))["id"]!.GetValue<long>();
        await TracedGetAsync($"/api/v1/issues/{issue}"); // the key is verified (and remembered) by an earlier request

        var (response, commands) = await TracedGetAsync($"/api/v1/issues/{issue}");

        using (response)
        {
            var body = await response.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal([sub], body["subIssues"]!.AsArray().Select(s => s!["id"]!.GetValue<long>()));
            Assert.Equal([measure], body["measures"]!.AsArray().Select(m => m!["id"]!.GetValue<long>()));
        }
        Assert.Equal(1, commands);
    }

    [Fact]
    public async Task A_measure_is_read_in_one_round_trip()
    {
        var round = await _seed.RoundAsync();
        var issue = (await _seed.IssueAsync(round))["id"]!.GetValue<long>();
        var measure = (await _seed.MeasureAsync(issue))["id"]!.GetValue<long>();
        await TracedGetAsync($"/api/v1/measures/{measure}");

        var (response, commands) = await TracedGetAsync($"/api/v1/measures/{measure}");

        using (response) await response.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal(1, commands);
    }

    [Fact]
    public async Task A_missing_issue_is_404_in_one_round_trip()
    {
        await TracedGetAsync("/api/v1/issues/999999");
        var (response, commands) = await TracedGetAsync("/api/v1/issues/999999");
        using (response) Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(1, commands);
    }
}
