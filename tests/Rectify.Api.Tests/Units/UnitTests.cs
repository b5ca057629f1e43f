using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Units;

/// <summary>Units (单位) of the reference case: the province with its cities and counties, the department with its divisions.</summary>
public sealed class UnitTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    readonly HttpClient _client = app.Client();

    static IEnumerable<string> Codes(JsonNode page) => page["items"]!.AsArray().Select(u => u!["code"]!.GetValue<string>());

    [Fact]
    public async Task A_unit_reads_back_by_its_code_with_its_kind_and_parent()
    {
        var haikou = await _client.GetJsonAsync("/api/v1/units/460100");
        Assert.Equal("460100", haikou["code"]!.GetValue<string>());
        Assert.Equal("海口市", haikou["name"]!.GetValue<string>());
        Assert.Equal("Haikou City", haikou["nameEn"]!.GetValue<string>());
        Assert.Equal("city", haikou["kind"]!.GetValue<string>());
        Assert.Equal("460000", haikou["parent"]!.GetValue<string>());

        var province = await _client.GetJsonAsync("/api/v1/units/460000");
        Assert.Equal("海南省", province["name"]!.GetValue<string>());
        Assert.Equal("province", province["kind"]!.GetValue<string>());
        Assert.Null(province["parent"]);

        var division = await _client.GetJsonAsync("/api/v1/units/HNMZT.SHSW");
        Assert.Equal("社会事务处", division["name"]!.GetValue<string>());
        Assert.Equal("division", division["kind"]!.GetValue<string>());
        Assert.Equal("HNMZT", division["parent"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_unit_is_a_not_found_problem()
    {
        using var response = await _client.GetAsync("/api/v1/units/999999", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Contains("999999", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Filtering_by_parent_lists_only_the_direct_children()
    {
        var haikou = await _client.GetJsonAsync("/api/v1/units?parent=460100");
        Assert.Equal(["460105", "460106", "460107", "460108"], Codes(haikou).Order(StringComparer.Ordinal));
        Assert.All(haikou["items"]!.AsArray(), u => Assert.Equal("460100", u!["parent"]!.GetValue<string>()));

        var department = await _client.GetJsonAsync("/api/v1/units?parent=HNMZT&limit=200");
        var divisions = Codes(department).ToList();
        Assert.Equal(14, divisions.Count);
        Assert.All(divisions, code => Assert.StartsWith("HNMZT.", code));

        // The province's direct children: 4 cities, 15 counties and the department; not the districts below the cities.
        var province = Codes(await _client.GetJsonAsync("/api/v1/units?parent=460000&limit=200")).ToList();
        Assert.Equal(20, province.Count);
        Assert.Contains("HNMZT", province);
        Assert.Contains("469030", province);
        Assert.DoesNotContain("460105", province);

        var none = await _client.GetJsonAsync("/api/v1/units?parent=460105");
        Assert.Empty(none["items"]!.AsArray());
        Assert.Null(none["nextCursor"]);
    }

    [Fact]
    public async Task Filtering_by_kind_lists_only_units_of_that_kind()
    {
        var counties = await _client.GetJsonAsync("/api/v1/units?kind=county&limit=200");
        Assert.Equal(15, counties["items"]!.AsArray().Count);
        Assert.All(counties["items"]!.AsArray(), u => Assert.Equal("county", u!["kind"]!.GetValue<string>()));

        var divisions = Codes(await _client.GetJsonAsync("/api/v1/units?kind=division&limit=200")).ToList();
        Assert.Equal(14, divisions.Count);
        Assert.All(divisions, code => Assert.StartsWith("HNMZT.", code));

        Assert.Equal(["460000"], Codes(await _client.GetJsonAsync("/api/v1/units?kind=province")));
        Assert.Equal(["460105", "460106", "460107", "460108"],
            Codes(await _client.GetJsonAsync("/api/v1/units?kind=district&parent=460100")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_unknown_kind_is_refused_naming_the_parameter()
    {
        using var response = await _client.GetAsync("/api/v1/units?kind=planet", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["kind"]);
    }

    [Fact]
    public async Task Paging_by_code_walks_every_unit_exactly_once_in_order()
    {
        var all = Codes(await _client.GetJsonAsync("/api/v1/units?limit=200")).ToList();
        Assert.Equal(43, all.Count);

        var walked = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await _client.GetJsonAsync("/api/v1/units?limit=10" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            var codes = Codes(page).ToList();
            Assert.True(codes.Count is > 0 and <= 10);
            walked.AddRange(codes);
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(5, pages);
        Assert.Equal(all, walked);
        Assert.Equal(43, walked.Distinct().Count());
    }

    [Fact]
    public async Task The_last_full_page_has_no_next_cursor()
    {
        var counties = await _client.GetJsonAsync("/api/v1/units?kind=county&limit=15");
        Assert.Equal(15, counties["items"]!.AsArray().Count);
        Assert.Null(counties["nextCursor"]);

        var first = await _client.GetJsonAsync("/api/v1/units?kind=county&limit=14");
        Assert.Equal(14, first["items"]!.AsArray().Count);
        var cursor = first["nextCursor"]!.GetValue<string>();
        var second = await _client.GetJsonAsync($"/api/v1/units?kind=county&limit=14&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Single(second["items"]!.AsArray());
        Assert.Null(second["nextCursor"]);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("cursor=garbage", "cursor")]
    public async Task Invalid_paging_values_are_refused_naming_the_parameter(string query, string field)
    {
        using var response = await _client.GetAsync("/api/v1/units?" + query, TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]![field]);
    }
}
