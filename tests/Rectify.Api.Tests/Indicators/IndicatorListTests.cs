using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Indicators;

/// <summary>Listing indicators: filters by issue, measure and value type, text search (Chinese, literal % and _), keyset paging.</summary>
public sealed class IndicatorListTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IndicatorKit _kit = new(app);
    HttpClient Client => _kit.Client;

    /// <summary>Codes of every indicator the query lists, following every page.</summary>
    async Task<List<string>> CodesAsync(string query)
    {
        var codes = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Client.GetJsonAsync($"/api/v1/indicators?{query}" + (cursor is null ? "" : $"&cursor={cursor}"));
            codes.AddRange(page["items"]!.AsArray().Select(i => i!["code"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        return codes;
    }

    async Task<string> CreateAsync(string name, string valueType = "count", long[]? issues = null, long[]? measures = null, string? nameEn = null,
        string? code = null)
    {
        var body = IndicatorKit.Body(code, name: name, valueType: valueType);
        body["issues"] = issues ?? [];
        body["measures"] = measures ?? [];
        body["nameEn"] = nameEn;
        return await _kit.CreateCodeAsync(body);
    }

    [Fact]
    public async Task Filtering_by_issue_or_measure_lists_only_the_linked_indicators()
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = (await _kit.Seed.IssueAsync(round))["id"]!.GetValue<long>();
        var otherIssue = (await _kit.Seed.IssueAsync(round))["id"]!.GetValue<long>();
        var measure = (await _kit.Seed.MeasureAsync(issue))["id"]!.GetValue<long>();

        var a = await CreateAsync("公墓覆盖率", issues: [issue]);
        var b = await CreateAsync("取消收费项目数", issues: [issue, otherIssue], measures: [measure]);
        var c = await CreateAsync("低保对象人数", issues: [otherIssue]);
        var unlinked = await CreateAsync("养老机构数");

        Assert.Equal([a, b], await CodesAsync($"issue={issue}"));
        Assert.Equal([b, c], await CodesAsync($"issue={otherIssue}"));
        Assert.Equal([b], await CodesAsync($"measure={measure}"));
        Assert.Equal([b], await CodesAsync($"issue={issue}&measure={measure}"));
        Assert.Empty(await CodesAsync("issue=987654321"));
        Assert.Empty(await CodesAsync("measure=987654321"));
        Assert.Contains(unlinked, await CodesAsync("limit=200"));
    }

    [Fact]
    public async Task Filtering_by_value_type_takes_the_snake_case_names_only()
    {
        var marker = Seed.Unique("类型筛选");
        var count = await CreateAsync(marker + "项数", "count");
        var amount = await CreateAsync(marker + "金额", "amount");
        var percent = await CreateAsync(marker + "占比", "percent");

        Assert.Equal([count], await CodesAsync($"valueType=count&q={marker}"));
        Assert.Equal([amount], await CodesAsync($"valueType=amount&q={marker}"));
        Assert.Equal([percent], await CodesAsync($"valueType=percent&q={marker}"));
        Assert.Empty(await CodesAsync($"valueType=ratio&q={marker}"));
        Assert.Equal([count, amount, percent], await CodesAsync($"q={marker}"));
    }

    [Theory]
    [InlineData("Count")]
    [InlineData("COUNT")]
    [InlineData("0")]
    [InlineData("number")]
    [InlineData("count,amount")]
    public async Task An_unknown_value_type_is_a_bad_request_naming_valueType(string valueType)
    {
        using var response =
            await Client.GetAsync($"/api/v1/indicators?valueType={Uri.EscapeDataString(valueType)}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["valueType"]);
    }

    [Fact]
    public async Task Text_search_finds_chinese_text_in_names_and_english_names_and_codes_case_insensitively()
    {
        var lottery = await CreateAsync("福利彩票销售额" + Seed.Unique(""), "amount", nameEn: "Welfare LOTTERY sales");
        var countyLottery = await CreateAsync("12个县福利彩票销售额" + Seed.Unique(""), "amount");
        var other = await CreateAsync("低保对象人数" + Seed.Unique(""), code: Seed.Unique("Dibao-Recipients") + "-X");

        var found = await CodesAsync($"q={Uri.EscapeDataString("彩票")}");
        Assert.Contains(lottery, found);
        Assert.Contains(countyLottery, found);
        Assert.DoesNotContain(other, found);

        Assert.Equal([lottery], await CodesAsync("q=lottery%20sales"));
        Assert.Equal([other], await CodesAsync($"q={other.ToLowerInvariant()}"));
        Assert.Equal([countyLottery], await CodesAsync($"q={Uri.EscapeDataString("12个县福利")}"));
    }

    [Fact]
    public async Task Percent_and_underscore_in_the_text_match_themselves()
    {
        var marker = Seed.Unique("通配符");
        var percent = await CreateAsync(marker + "完成率100%以上");
        var digits = await CreateAsync(marker + "完成率1000以上"); // what an unescaped % would match too
        var underscore = await CreateAsync(marker + "A_B");
        var letter = await CreateAsync(marker + "AxB"); // what an unescaped _ would match too

        Assert.Equal([percent], await CodesAsync($"q={Uri.EscapeDataString(marker + "完成率100%")}"));
        Assert.Equal([underscore], await CodesAsync($"q={Uri.EscapeDataString(marker + "A_B")}"));
        Assert.Empty(await CodesAsync($"q={Uri.EscapeDataString(marker + "%以上")}"));
        Assert.Equal([percent, digits, underscore, letter], await CodesAsync($"q={Uri.EscapeDataString(marker)}"));
    }

    [Fact]
    public async Task Keyset_paging_walks_every_indicator_once_in_creation_order()
    {
        var marker = Seed.Unique("分页");
        var created = new List<string>();
        for (var i = 0; i < 5; i++) created.Add(await CreateAsync($"{marker}-{i}"));

        var first = await Client.GetJsonAsync($"/api/v1/indicators?q={marker}&limit=2");
        Assert.Equal(created[..2], first["items"]!.AsArray().Select(i => i!["code"]!.GetValue<string>()));
        Assert.NotNull(first["nextCursor"]);

        Assert.Equal(created, await CodesAsync($"q={marker}&limit=2"));
        Assert.Equal(created, await CodesAsync($"q={marker}&limit=5"));
        var last = await Client.GetJsonAsync($"/api/v1/indicators?q={marker}&limit=5");
        Assert.Null(last["nextCursor"]);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    [InlineData("cursor=not-a-cursor")]
    public async Task Bad_paging_parameters_are_a_bad_request(string query)
    {
        using var response = await Client.GetAsync($"/api/v1/indicators?{query}", TestContext.Current.CancellationToken);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task A_listed_indicator_is_the_same_as_the_one_read_alone()
    {
        var round = await _kit.Seed.RoundAsync();
        var issue = (await _kit.Seed.IssueAsync(round))["id"]!.GetValue<long>();
        var code = await CreateAsync("公墓建设数" + Seed.Unique(""), issues: [issue]);
        var listed = (await Client.GetJsonAsync($"/api/v1/indicators?issue={issue}"))["items"]![0]!;
        Assert.Equal((await _kit.GetAsync(code)).Body.ToJsonString(), listed.ToJsonString());
    }
}
