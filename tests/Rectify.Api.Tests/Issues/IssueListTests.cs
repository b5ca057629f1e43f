using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>Listing issues: every filter, text search (Chinese, literal % and _), and keyset paging.</summary>
public sealed class IssueListTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IssueKit _kit = new(app);
    HttpClient Client => _kit.Client;
    Seed Seed => _kit.Seed;

    async Task<long[]> IdsAsync(string query) => IssueKit.Ids(await Client.GetJsonAsync("/api/v1/issues?" + query));

    async Task<long> CreateAsync(string round, string code, string title, string? description = null, string category = "殡葬管理",
        string leadUnit = "HNMZT.SHSW", string? dueDate = "2025-12-31", long? parentId = null)
    {
        using var response = await Client.PostJsonAsync("/api/v1/issues", new
        {
            round, code, title, description, category, leadUnit, dueDate, parentId,
        });
        return IssueKit.Id(await response.ShouldBeAsync(HttpStatusCode.Created));
    }

    [Fact]
    public async Task Filtering_by_round_lists_only_that_rounds_issues_oldest_first()
    {
        var round = await Seed.RoundAsync();
        var other = await Seed.RoundAsync();
        var a = IssueKit.Id(await Seed.IssueAsync(round));
        var b = IssueKit.Id(await Seed.IssueAsync(round));
        var elsewhere = IssueKit.Id(await Seed.IssueAsync(other));

        Assert.Equal([a, b], await IdsAsync($"round={round}"));
        Assert.Equal([elsewhere], await IdsAsync($"round={other}"));
        Assert.Empty(await IdsAsync("round=NO-SUCH-ROUND"));
        var all = await Exports.ExportKit.JsonIdsAsync(Client, "/api/v1/issues"); // every page: other tests here add issues too
        Assert.Contains(a, all);
        Assert.Contains(elsewhere, all);
    }

    [Fact]
    public async Task Filtering_by_state_category_and_lead_unit()
    {
        var round = await Seed.RoundAsync();
        var open = await CreateAsync(round, "1", "殡葬改革推行不力", category: "殡葬管理", leadUnit: "HNMZT.SHSW");
        var working = await CreateAsync(round, "2", "社会救助体系不够健全", category: "社会救助", leadUnit: "HNMZT.SHJZ");
        var longTerm = await CreateAsync(round, "3", "养老服务事业短板突出", category: "养老服务", leadUnit: "HNMZT.SHJZ");
        await _kit.MoveAsync(working, "in_progress");
        await _kit.MoveAsync(longTerm, "long_term");

        Assert.Equal([open], await IdsAsync($"round={round}&state=open"));
        Assert.Equal([working], await IdsAsync($"round={round}&state=in_progress"));
        Assert.Equal([longTerm], await IdsAsync($"round={round}&state=long_term"));
        Assert.Empty(await IdsAsync($"round={round}&state=closed"));

        Assert.Equal([working], await IdsAsync($"round={round}&category={Uri.EscapeDataString("社会救助")}"));
        Assert.Equal([open], await IdsAsync($"round={round}&category={Uri.EscapeDataString("殡葬管理")}"));

        Assert.Equal([working, longTerm], await IdsAsync($"round={round}&leadUnit=HNMZT.SHJZ"));
        Assert.Equal([open], await IdsAsync($"round={round}&leadUnit=HNMZT.SHSW"));
        Assert.Equal([longTerm], await IdsAsync($"round={round}&leadUnit=HNMZT.SHJZ&state=long_term"));
    }

    [Fact]
    public async Task An_unknown_state_in_the_query_is_a_bad_request()
    {
        using var response = await Client.GetAsync("/api/v1/issues?state=signed_off", TestContext.Current.CancellationToken);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Filtering_by_parent_and_by_top_level()
    {
        var round = await Seed.RoundAsync();
        var parent = await CreateAsync(round, "2", "分层分类的社会救助体系不够健全");
        var child1 = await CreateAsync(round, "2.1", "低保动态管理不精准", parentId: parent);
        var child2 = await CreateAsync(round, "2.2", "临时救助不及时", parentId: parent);
        var other = await CreateAsync(round, "3", "养老服务事业短板突出");
        var grandChild = await CreateAsync(round, "2.1.1", "低保复核不及时", parentId: child1);

        Assert.Equal([child1, child2], await IdsAsync($"parent={parent}"));
        Assert.Equal([grandChild], await IdsAsync($"parent={child1}"));
        Assert.Empty(await IdsAsync($"parent={other}"));
        Assert.Equal([parent, other], await IdsAsync($"round={round}&topLevel=true"));
        Assert.Equal([child1, child2, grandChild], await IdsAsync($"round={round}&topLevel=false"));
    }

    [Fact]
    public async Task Filtering_by_overdue()
    {
        var round = await Seed.RoundAsync();
        var today = _kit.Today;
        var overdueOpen = await CreateAsync(round, "1", "过期未整改", dueDate: IssueKit.Iso(today.AddDays(-1)));
        var overdueWorking = await CreateAsync(round, "2", "过期整改中", dueDate: IssueKit.Iso(today.AddDays(-30)));
        var dueToday = await CreateAsync(round, "3", "今日到期", dueDate: IssueKit.Iso(today));
        var longTerm = await CreateAsync(round, "4", "长期坚持", dueDate: IssueKit.Iso(today.AddDays(-1)));
        var noDate = await CreateAsync(round, "5", "无期限", dueDate: null);
        var pending = await CreateAsync(round, "6", "申请销号中", dueDate: IssueKit.Iso(today.AddDays(-1)));
        await _kit.MoveAsync(overdueWorking, "in_progress");
        await _kit.MoveAsync(longTerm, "long_term");
        await _kit.MoveAsync(pending, "in_progress");
        await _kit.MoveAsync(pending, "pending_review");

        Assert.Equal([overdueOpen, overdueWorking], await IdsAsync($"round={round}&overdue=true"));
        Assert.Equal([dueToday, longTerm, noDate, pending], await IdsAsync($"round={round}&overdue=false"));
        var items = (await Client.GetJsonAsync($"/api/v1/issues?round={round}"))["items"]!.AsArray();
        Assert.Equal([true, true, false, false, false, false], items.Select(i => i!["overdue"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task Text_search_finds_chinese_in_title_description_and_code()
    {
        var round = await Seed.RoundAsync();
        var funeral = await CreateAsync(round, "1", "殡葬改革推行不力", description: "殡葬服务收费不规范");
        var assistance = await CreateAsync(round, "2", "分层分类的社会救助体系不够健全", description: "低保、特困供养政策落实不到位");
        var inDescription = await CreateAsync(round, "3", "基层能力建设薄弱", description: "乡镇社会救助经办力量不足");
        var byCode = await CreateAsync(round, "SJ-7", "养老服务事业短板突出");

        Assert.Equal([funeral], await IdsAsync($"round={round}&q={Uri.EscapeDataString("殡葬")}"));
        Assert.Equal([assistance, inDescription], await IdsAsync($"round={round}&q={Uri.EscapeDataString("社会救助")}"));
        Assert.Equal([assistance], await IdsAsync($"round={round}&q={Uri.EscapeDataString("特困供养")}"));
        Assert.Equal([byCode], await IdsAsync($"round={round}&q=sj-7"));      // case-insensitive
        Assert.Empty(await IdsAsync($"round={round}&q={Uri.EscapeDataString("福利彩票")}"));
        // surrounding blanks are not part of the text
        Assert.Equal([funeral], await IdsAsync($"round={round}&q={Uri.EscapeDataString("  殡葬 ")}"));
    }

    [Fact]
    public async Task Percent_and_underscore_in_the_search_text_match_literally()
    {
        var round = await Seed.RoundAsync();
        var percent = await CreateAsync(round, "1", "问题整改完成率93.6%");
        var noPercent = await CreateAsync(round, "2", "问题整改完成率936");
        var underscore = await CreateAsync(round, "A_1", "编码带下划线");
        var letter = await CreateAsync(round, "AB1", "编码不带下划线");
        var backslash = await CreateAsync(round, "3", @"路径C:\data");

        Assert.Equal([percent], await IdsAsync($"round={round}&q={Uri.EscapeDataString("%")}"));
        Assert.Equal([percent], await IdsAsync($"round={round}&q={Uri.EscapeDataString("93.6%")}"));
        Assert.Empty(await IdsAsync($"round={round}&q={Uri.EscapeDataString("率%6")}"));
        Assert.Equal([underscore], await IdsAsync($"round={round}&q={Uri.EscapeDataString("A_1")}"));
        Assert.Equal([underscore], await IdsAsync($"round={round}&q={Uri.EscapeDataString("_")}"));
        Assert.Equal([backslash], await IdsAsync($"round={round}&q={Uri.EscapeDataString(@"C:\data")}"));
        Assert.Equal([backslash], await IdsAsync($"round={round}&q={Uri.EscapeDataString(@"\")}"));
        Assert.DoesNotContain(noPercent, await IdsAsync($"round={round}&q={Uri.EscapeDataString("完成率93%")}"));
        Assert.DoesNotContain(letter, await IdsAsync($"round={round}&q={Uri.EscapeDataString("A_1")}"));
    }

    [Fact]
    public async Task Paging_walks_every_issue_once_in_pages_of_the_limit()
    {
        var round = await Seed.RoundAsync();
        var created = new List<long>();
        for (var i = 1; i <= 7; i++) created.Add(IssueKit.Id(await Seed.IssueAsync(round, code: $"P{i}")));

        var pages = await WalkAsync($"round={round}", 3);
        Assert.Equal([3, 3, 1], pages.Select(p => p.Length));
        Assert.Equal(created, pages.SelectMany(p => p));

        // Exactly divisible: the last full page has no next cursor (no empty page at the end).
        var round2 = await Seed.RoundAsync();
        for (var i = 1; i <= 6; i++) await Seed.IssueAsync(round2, code: $"P{i}");
        Assert.Equal([3, 3], (await WalkAsync($"round={round2}", 3)).Select(p => p.Length));
    }

    [Fact]
    public async Task Paging_while_issues_are_added_returns_every_earlier_issue_exactly_once()
    {
        var round = await Seed.RoundAsync();
        var existing = new List<long>();
        for (var i = 1; i <= 7; i++) existing.Add(IssueKit.Id(await Seed.IssueAsync(round, code: $"E{i}")));

        var seen = new List<long>();
        var added = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Client.GetJsonAsync($"/api/v1/issues?round={round}&limit=3" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            seen.AddRange(IssueKit.Ids(page));
            cursor = page["nextCursor"]?.GetValue<string>();
            // Between page requests other systems keep creating issues, in this round and elsewhere.
            if (pages < 3)
            {
                added.Add(IssueKit.Id(await Seed.IssueAsync(round, code: $"N{pages}")));
                await Seed.IssueAsync(await Seed.RoundAsync());
            }
            pages++;
            Assert.True(pages < 20, "Paging does not end.");
        }
        while (cursor is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.All(existing, id => Assert.Single(seen, s => s == id));
        Assert.Equal(existing, seen.Take(existing.Count));
        Assert.All(seen, id => Assert.True(existing.Contains(id) || added.Contains(id)));
        Assert.Equal(seen.Order(), seen);
    }

    [Theory]
    [InlineData("not-a-cursor!")]
    [InlineData("azE6")]            // "k1:" with nothing after it
    [InlineData("eHg6MTI")]         // "xx:12": not our prefix
    [InlineData("azE6YWJj")]        // "k1:abc"
    [InlineData("azE6LTU")]         // "k1:-5"
    [InlineData("%FF%FE")]
    public async Task An_invalid_cursor_is_a_validation_problem(string cursor)
    {
        using var response = await Client.GetAsync($"/api/v1/issues?cursor={cursor}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["cursor"]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("201")]
    [InlineData("-1")]
    public async Task A_limit_outside_1_to_200_is_a_validation_problem(string limit)
    {
        using var response = await Client.GetAsync($"/api/v1/issues?limit={limit}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["limit"]);
    }

    [Fact]
    public async Task A_limit_that_is_not_a_number_is_a_bad_request_and_200_is_accepted()
    {
        using var text = await Client.GetAsync("/api/v1/issues?limit=abc", TestContext.Current.CancellationToken);
        await text.ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        var round = await Seed.RoundAsync();
        var id = IssueKit.Id(await Seed.IssueAsync(round));
        Assert.Equal([id], await IdsAsync($"round={round}&limit=200"));
        Assert.Equal([id], await IdsAsync($"round={round}&limit=1"));
    }

    async Task<List<long[]>> WalkAsync(string query, int limit)
    {
        var pages = new List<long[]>();
        string? cursor = null;
        do
        {
            JsonNode page = await Client.GetJsonAsync($"/api/v1/issues?{query}&limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            pages.Add(IssueKit.Ids(page));
            cursor = page["nextCursor"]?.GetValue<string>();
            Assert.True(pages.Count < 20, "Paging does not end.");
        }
        while (cursor is not null);
        return pages;
    }
}
