using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Indicators;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>
/// A round of one's own with two issues and three measures, and an indicator linked to it, for each test. Today is
/// 2025-06-15 in Shanghai: May 2025 is over (publishable), June is running, July has not begun.
/// </summary>
public sealed class SnapshotKit(RectifyApp app)
{
    public HttpClient Client { get; } = app.Client();
    public IndicatorKit Indicators { get; } = new(app);

    public sealed record TestRound(string Code, long IssueA, long IssueB, long[] Measures, string Indicator)
    {
        public string Url(string period) => $"/api/v1/rounds/{Code}/snapshots/{period}";
    }

    public async Task<TestRound> RoundAsync()
    {
        await Indicators.RegionsAsync();
        var seed = Indicators.Seed;
        var round = await seed.RoundAsync();
        var a = (await seed.IssueAsync(round, code: "1", title: "殡葬改革推行不力", category: "殡葬管理"))["id"]!.GetValue<long>();
        var b = (await seed.IssueAsync(round, code: "2", title: "分层分类的社会救助体系不够健全", category: "社会救助"))["id"]!.GetValue<long>();
        var measures = new[]
        {
            (await seed.MeasureAsync(a, code: "1.1"))["id"]!.GetValue<long>(),
            (await seed.MeasureAsync(a, code: "1.2", dueDate: "2025-05-20"))["id"]!.GetValue<long>(),
            (await seed.MeasureAsync(b, code: "2.1", owner: "HNMZT.SHJZ"))["id"]!.GetValue<long>(),
        };
        var body = IndicatorKit.Body(name: "公墓覆盖乡镇数", measureUnit: "个", timeAggregation: "stock");
        body["issues"] = new[] { a };
        body["targetValue"] = 200m;
        var indicator = await Indicators.CreateCodeAsync(body);
        return new TestRound(round, a, b, measures, indicator);
    }

    public Task<HttpResponseMessage> PushAsync(TestRound round, string period, object body)
        => Client.PutJsonAsync(round.Url(period), body, ifMatch: null);

    public async Task<JsonNode> PushOkAsync(TestRound round, string period, object body)
    {
        using var response = await PushAsync(round, period, body);
        return await response.ShouldBeAsync(HttpStatusCode.OK);
    }

    public async Task<JsonNode> PublishOkAsync(TestRound round, string period)
    {
        using var response = await Client.PostJsonAsync($"{round.Url(period)}/publish", new { note = "专班会议审定" });
        return await response.ShouldBeAsync(HttpStatusCode.OK);
    }

    public Task<JsonNode> GetAsync(TestRound round, string period, int? revision = null)
        => Client.GetJsonAsync(revision is { } r ? $"{round.Url(period)}?revision={r}" : round.Url(period));

    public static JsonNode Measure(JsonNode snapshot, long id)
        => snapshot["content"]!["measures"]!.AsArray().Single(m => m!["id"]!.GetValue<long>() == id)!;

    public static decimal? Rate(JsonNode snapshot) => snapshot["content"]!["summary"]!["completionRate"]?.GetValue<decimal>();
}
