using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Localization;

/// <summary>
/// A problem is said in the caller's language (Accept-Language): Chinese for zh-CN or zh, English for en or none.
/// Its type and its field keys are the same in both: integrators switch on those, people read the rest.
/// </summary>
public sealed class ProblemLanguageTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly Seed _seed = new(app);

    HttpClient Client(string? language)
    {
        var client = app.Client();
        if (language is not null) client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        return client;
    }

    static async Task<JsonNode> ProblemAsync(Task<HttpResponseMessage> sending, HttpStatusCode status, string type, string? language)
    {
        using var response = await sending;
        var problem = await response.ShouldBeProblemAsync(status, type);
        Assert.Equal(language ?? "en", response.Content.Headers.ContentLanguage.Single());
        return problem;
    }

    static string Text(JsonNode problem, string name) => problem[name]!.GetValue<string>();

    static Dictionary<string, string[]> Errors(JsonNode problem) => problem["errors"]!.AsObject()
        .ToDictionary(e => e.Key, e => e.Value!.AsArray().Select(m => m!.GetValue<string>()).ToArray());

    [Theory]
    [InlineData("zh-CN")]
    [InlineData("zh")]
    public async Task A_refusal_with_arguments_is_said_in_chinese_and_its_noun_too(string language)
    {
        var zh = await ProblemAsync(Client(language).GetAsync("/api/v1/measures/987654321", TestContext.Current.CancellationToken),
            HttpStatusCode.NotFound, "not-found", "zh");
        Assert.Equal("未找到", Text(zh, "title"));
        Assert.Equal("整改措施“987654321”不存在。", Text(zh, "detail"));

        var en = await ProblemAsync(Client("en").GetAsync("/api/v1/measures/987654321", TestContext.Current.CancellationToken),
            HttpStatusCode.NotFound, "not-found", "en");
        Assert.Equal("Not found", Text(en, "title"));
        Assert.Equal("No measure '987654321' exists.", Text(en, "detail"));
        Assert.Equal(Text(en, "type"), Text(zh, "type"));
    }

    [Fact]
    public async Task Without_accept_language_a_problem_is_english()
    {
        var problem =
            await ProblemAsync(Client(null).GetAsync("/api/v1/measures/987654321", TestContext.Current.CancellationToken), HttpStatusCode.NotFound,
            "not-found", null);
        Assert.Equal("No measure '987654321' exists.", Text(problem, "detail"));
    }

    [Fact]
    public async Task A_refusal_naming_a_field_keeps_the_field_key_and_says_the_message_in_chinese()
    {
        var body = new { issueId = 987654321, code = "1.1", title = "整改", ownerUnit = "HNMZT.SHSW", dueDate = "2025-12-31" };
        var zh = await ProblemAsync(Client("zh-CN").PostJsonAsync("/api/v1/measures", body), HttpStatusCode.UnprocessableEntity, "validation", "zh");
        var en = await ProblemAsync(Client("en").PostJsonAsync("/api/v1/measures", body), HttpStatusCode.UnprocessableEntity, "validation", "en");
        Assert.Equal(["问题 987654321 不存在。"], Errors(zh)["issueId"]);
        Assert.Equal(["No issue 987654321 exists."], Errors(en)["issueId"]);
        Assert.Equal("请求引用的内容不存在或不相符", Text(zh, "title"));
        Assert.Equal(Errors(en).Keys, Errors(zh).Keys);
    }

    [Fact]
    public async Task A_state_refusal_says_its_values_in_the_chinese_sentence()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var measure = await _seed.MeasureAsync(issue["id"]!.GetValue<long>());
        var zh = await ProblemAsync(Client("zh-CN").PostJsonAsync($"/api/v1/measures/{measure["id"]}/progress",
            new { percent = 10, reportedOn = "2999-01-01" }), HttpStatusCode.BadRequest, "validation", "zh");
        Assert.Equal("请求无效", Text(zh, "title"));
        Assert.Equal(["reportedOn 不能晚于今天。"], Errors(zh)["reportedOn"]);
    }

    [Fact]
    public async Task Validation_of_the_attributes_is_said_in_chinese_from_their_values_with_the_same_field_keys()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var measure = await _seed.MeasureAsync(issue["id"]!.GetValue<long>());
        var body = $$"""{"title":"","documentNumber":"{{new string('号', 201)}}","url":"not a link"}""";
        var url = $"/api/v1/measures/{measure["id"]}/evidence";
        var zh = await ProblemAsync(Client("zh-CN").SendRawAsync(HttpMethod.Post, url, body), HttpStatusCode.BadRequest, "validation", "zh");
        var en = await ProblemAsync(Client("en").SendRawAsync(HttpMethod.Post, url, body), HttpStatusCode.BadRequest, "validation", "en");

        Assert.Equal("请求无效", Text(zh, "title"));
        Assert.Equal("请按 errors 中列出的字段逐项更正。", Text(zh, "detail"));
        Assert.Equal(["title 不能为空，且不得超过 500 个字符。"], Errors(zh)["title"]);
        Assert.Equal(["documentNumber 不得超过 200 个字符。"], Errors(zh)["documentNumber"]);
        Assert.Equal(["url 须为完整的 http 或 https 网址。"], Errors(zh)["url"]);
        Assert.Equal(["title must not be empty and at most 500 characters long."], Errors(en)["title"]);
        Assert.Equal(Errors(en).Keys.Order(), Errors(zh).Keys.Order());
        Assert.Equal(Text(en, "type"), Text(zh, "type"));
    }

    [Fact]
    public async Task A_query_parameter_rule_and_a_route_that_does_not_exist_are_said_in_chinese()
    {
        var limit =
            await ProblemAsync(Client("zh-CN").GetAsync("/api/v1/issues?limit=0", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest,
            "validation", "zh");
        Assert.Equal(["limit 须在 1 至 200 之间。"], Errors(limit)["limit"]);

        var route =
            await ProblemAsync(Client("zh-CN").GetAsync("/api/v1/no-such-thing", TestContext.Current.CancellationToken), HttpStatusCode.NotFound,
            "not-found", "zh");
        Assert.Equal("未找到", Text(route, "title"));
    }
}

/// <summary>The language of a request that names none is configurable (Localization:DefaultLanguage).</summary>
public sealed class DefaultLanguageTests(DefaultLanguageTests.ChineseApp app) : IClassFixture<DefaultLanguageTests.ChineseApp>
{
    public sealed class ChineseApp(TestCluster cluster) : RectifyApp(cluster)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Localization:DefaultLanguage", "zh-CN");
        }
    }

    [Fact]
    public async Task Without_accept_language_the_configured_language_is_spoken_and_en_still_asks_for_english()
    {
        using var plain = await app.Client().GetAsync("/api/v1/measures/987654321", TestContext.Current.CancellationToken);
        var zh = await plain.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal("整改措施“987654321”不存在。", zh["detail"]!.GetValue<string>());

        var english = app.Client();
        english.DefaultRequestHeaders.AcceptLanguage.ParseAdd("en");
        using var asked = await english.GetAsync("/api/v1/measures/987654321", TestContext.Current.CancellationToken);
        var en = await asked.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal("No measure '987654321' exists.", en["detail"]!.GetValue<string>());
    }
}
