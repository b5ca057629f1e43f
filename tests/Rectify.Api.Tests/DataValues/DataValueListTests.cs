using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// GET /api/v1/data-values: filters (indicator, unit, unit subtree, period range, source), keyset paging in key
/// order, and the CSV export other systems and spreadsheet users read. Each test pushes values of its own indicators
/// and filters by them.
/// </summary>
public sealed class DataValueListTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    HttpClient Client => _kit.Client;

    /// <summary>
    /// Two indicators. First: 460000, 460100, 460105, HNMZT, HNMZT.SHSW × 2025-01…03 (value = 100 × unit + month);
    /// second: 460100 × 2025-01…02. One value of the first (460105/2025-02) was written by another system.
    /// </summary>
    async Task<(string First, string Second)> ScenarioAsync()
    {
        var first = await _kit.IndicatorAsync();
        var second = await _kit.IndicatorAsync();
        string[] units = ["460000", "460100", "460105", "HNMZT", "HNMZT.SHSW"];
        var rows = units.SelectMany((unit, u) => Enumerable.Range(1, 3).Select(m => $"{first},{unit},2025-{m:D2},{100 * u + m},"))
            .Concat(Enumerable.Range(1, 2).Select(m => $"{second},460100,2025-{m:D2},{m}.5,"));
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows)));
        await app.ScalarAsync<int>("""
            UPDATE data_values SET source = 'haikou-civil-affairs'
            WHERE indicator_id = (SELECT id FROM indicators WHERE code = @first) AND unit_code = '460105' AND period = '2025-02';
            SELECT 1;
            """, new { first });
        return (first, second);
    }

    async Task<List<(string Indicator, string Unit, string Period)>> KeysAsync(string query)
    {
        var page = await Client.GetJsonAsync("/api/v1/data-values?limit=200&" + query);
        Assert.Null(page["nextCursor"]);
        return page["items"]!.AsArray().Select(Key).ToList();
    }

    static (string Indicator, string Unit, string Period) Key(JsonNode? item)
        => (item!["indicator"]!.GetValue<string>(), item["unit"]!.GetValue<string>(), item["period"]!.GetValue<string>());

    [Fact]
    public async Task A_value_is_listed_with_every_field()
    {
        var now = _kit.Now;
        var (first, _) = await ScenarioAsync();
        var page = await Client.GetJsonAsync($"/api/v1/data-values?indicator={first}&unit=460100&from=2025-02&to=2025-02");
        var item = Assert.Single(page["items"]!.AsArray())!;

        Assert.Equal(first, item["indicator"]!.GetValue<string>());
        Assert.Equal("460100", item["unit"]!.GetValue<string>());
        Assert.Equal("2025-02", item["period"]!.GetValue<string>());
        Assert.Equal(102m, item["value"]!.GetValue<decimal>());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, item["value"]!.GetValueKind());
        Assert.Null(item["comment"]);
        Assert.Equal(RectifyApp.ClientName, item["source"]!.GetValue<string>());
        Assert.Equal(now, item["createdAt"]!.GetValue<DateTime>());
        Assert.Equal(now, item["updatedAt"]!.GetValue<DateTime>());
        Assert.EndsWith("Z", item["updatedAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Filters_by_indicator_and_unit()
    {
        var (first, second) = await ScenarioAsync();
        Assert.Equal(15, (await KeysAsync($"indicator={first}")).Count);
        Assert.Equal([(second, "460100", "2025-01"), (second, "460100", "2025-02")], await KeysAsync($"indicator={second}"));
        Assert.Equal([(first, "HNMZT", "2025-01"), (first, "HNMZT", "2025-02"), (first, "HNMZT", "2025-03")], await KeysAsync($"indicator={first}&unit=HNMZT"));
        Assert.Empty(await KeysAsync($"indicator={first}&unit=469001"));
        Assert.Empty(await KeysAsync("indicator=NO-SUCH-INDICATOR"));
    }

    [Fact]
    public async Task A_unit_subtree_returns_the_unit_and_everything_below_it()
    {
        var (first, second) = await ScenarioAsync();
        // 460100 海口市 → 460105 秀英区; 460000 海南省 is above it, HNMZT beside it.
        Assert.Equal(["460100", "460105"], (await KeysAsync($"indicator={first}&unitSubtree=460100&from=2025-01&to=2025-01")).Select(k => k.Unit));
        Assert.Equal(["HNMZT", "HNMZT.SHSW"], (await KeysAsync($"indicator={first}&unitSubtree=HNMZT&to=2025-01")).Select(k => k.Unit));
        Assert.Equal(["460000", "460100", "460105", "HNMZT", "HNMZT.SHSW"],
            (await KeysAsync($"indicator={first}&unitSubtree=460000&from=2025-03")).Select(k => k.Unit));
        Assert.Equal(["460105"], (await KeysAsync($"indicator={first}&unitSubtree=460105&from=2025-03")).Select(k => k.Unit));
        Assert.Equal(2, (await KeysAsync($"indicator={second}&unitSubtree=460000")).Count);
        Assert.Empty(await KeysAsync($"indicator={second}&unitSubtree=HNMZT"));
        Assert.Empty(await KeysAsync($"indicator={first}&unitSubtree=NO-SUCH-UNIT"));
    }

    [Fact]
    public async Task Filters_by_period_range_inclusive()
    {
        var (first, _) = await ScenarioAsync();
        Assert.Equal(["2025-02", "2025-03"], (await KeysAsync($"indicator={first}&unit=460000&from=2025-02")).Select(k => k.Period));
        Assert.Equal(["2025-01", "2025-02"], (await KeysAsync($"indicator={first}&unit=460000&to=2025-02")).Select(k => k.Period));
        Assert.Equal(["2025-02"], (await KeysAsync($"indicator={first}&unit=460000&from=2025-02&to=2025-02")).Select(k => k.Period));
        Assert.Empty(await KeysAsync($"indicator={first}&unit=460000&from=2025-03&to=2025-01"));
        Assert.Empty(await KeysAsync($"indicator={first}&from=2025-04"));
    }

    [Fact]
    public async Task Filters_by_source()
    {
        var (first, _) = await ScenarioAsync();
        Assert.Equal([(first, "460105", "2025-02")], await KeysAsync($"indicator={first}&source=haikou-civil-affairs"));
        Assert.Equal(14, (await KeysAsync($"indicator={first}&source=test-suite")).Count);
        Assert.Empty(await KeysAsync($"indicator={first}&source=nobody"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("&unitSubtree=460000")]
    [InlineData("&from=2025-02")]
    [InlineData("&source=test-suite")]
    public async Task Keyset_paging_returns_every_value_once_in_key_order(string filter)
    {
        var (first, second) = await ScenarioAsync();
        var scope = $"indicator={first}{filter}";
        var expected = await KeysAsync(scope);
        Assert.True(expected.Count >= 5);

        var seen = new List<(string Indicator, string Unit, string Period)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Client.GetJsonAsync($"/api/v1/data-values?{scope}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            var items = page["items"]!.AsArray();
            cursor = page["nextCursor"]?.GetValue<string>();
            Assert.InRange(items.Count, 1, 2);
            if (cursor is not null) Assert.Equal(2, items.Count);
            seen.AddRange(items.Select(Key));
            pages++;
        } while (cursor is not null && pages < 20);

        Assert.Equal(expected, seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var ordered = seen.OrderBy(k => k.Unit, StringComparer.Ordinal).ThenBy(k => k.Period, StringComparer.Ordinal).ToList();
        Assert.Equal(ordered, seen);
        Assert.Equal((expected.Count + 1) / 2, pages);
        Assert.DoesNotContain(seen, k => k.Indicator == second);
    }

    [Fact]
    public async Task Paging_without_an_indicator_filter_crosses_indicators_in_creation_order()
    {
        var (first, second) = await ScenarioAsync();
        var all = new List<(string Indicator, string Unit, string Period)>();
        string? cursor = null;
        do
        {
            var page = await Client.GetJsonAsync("/api/v1/data-values?limit=7" + (cursor is null ? "" : $"&cursor={cursor}"));
            all.AddRange(page["items"]!.AsArray().Select(Key));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);

        Assert.Equal(await app.ScalarAsync<long>("SELECT count(*) FROM data_values"), all.Count);
        Assert.Equal(all.Count, all.Distinct().Count());
        var mine = all.Where(k => k.Indicator == first || k.Indicator == second).ToList();
        Assert.Equal(17, mine.Count);
        Assert.Equal(first, mine[0].Indicator);
        Assert.Equal(second, mine[^1].Indicator);
        Assert.Equal(15, mine.FindIndex(k => k.Indicator == second)); // every value of the first, then the second's
    }

    [Theory]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=azE6MTI", "cursor")]          // a well-formed cursor of another list ("k1:12")
    [InlineData("from=2025-13", "from")]
    [InlineData("to=2025-9", "to")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2025-Q5", "to")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("limit=abc", "limit")]
    public async Task A_malformed_filter_is_a_bad_request(string query, string field)
    {
        using var response = await Client.GetAsync($"/api/v1/data-values?{query}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]![field]);
    }

    async Task<(HttpResponseMessage Response, byte[] Body)> CsvAsync(string query, string accept = "text/csv")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/data-values/export?" + query);
        request.Headers.Accept.ParseAdd(accept);
        var response = await app.CreateClient().SendAsync(request, TestContext.Current.CancellationToken);
        return (response, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Csv_export_has_a_bom_the_header_and_quotes_what_needs_quoting()
    {
        var indicator = await _kit.IndicatorAsync();
        app.Clock.Advance(TimeSpan.FromSeconds(1.5) - TimeSpan.FromTicks(_kit.Now.Ticks % TimeSpan.TicksPerSecond)); // to an instant at .5 s
        var at = _kit.Now;
        await ImportKit.AppliedAsync(await _kit.PushJsonAsync(new object[]
        {
            new { indicator, unit = "460000", period = "2025-09", value = 6.97m, comment = "同比增长19.7%, 全省" },
            new { indicator, unit = "460100", period = "2025-09", value = -1.5m, comment = "=SUM(A1:A9)" },
            new { indicator, unit = "460105", period = "2025-09", value = 0m, comment = "他说\"好\"\n第二行" },
            new { indicator, unit = "HNMZT", period = "2025-09", value = 558m },
            new { indicator, unit = "HNMZT.SHSW", period = "2025-09", value = 1m, comment = "+1 @x -y" },
        }));

        var (response, body) = await CsvAsync($"indicator={indicator}");
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal([0xEF, 0xBB, 0xBF], body[..3]);
            var text = new UTF8Encoding(false, true).GetString(body[3..]);
            var updatedAt = at.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(
                "indicator,unit,period,value,comment,source,updatedAt\r\n" +
                $"{indicator},460000,2025-09,6.97,\"同比增长19.7%, 全省\",test-suite,{updatedAt}\r\n" +
                $"{indicator},460100,2025-09,-1.5,'=SUM(A1:A9),test-suite,{updatedAt}\r\n" +
                $"{indicator},460105,2025-09,0,\"他说\"\"好\"\"\n第二行\",test-suite,{updatedAt}\r\n" +
                $"{indicator},HNMZT,2025-09,558,,test-suite,{updatedAt}\r\n" +
                $"{indicator},HNMZT.SHSW,2025-09,1,'+1 @x -y,test-suite,{updatedAt}\r\n",
                text);
            Assert.EndsWith(".5Z", updatedAt);
        }
    }

    [Fact]
    public async Task Csv_export_applies_the_filters_and_is_not_paged()
    {
        var (first, _) = await ScenarioAsync();
        var (response, body) = await CsvAsync($"indicator={first}&unitSubtree=460100&limit=1");
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var lines = Encoding.UTF8.GetString(body).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(1 + 6, lines.Length); // header, 460100 and 460105 × 3 months
            Assert.All(lines.Skip(1), l => Assert.Matches($"^{first},4601(00|05),2025-0[1-3],", l));
        }
    }

    [Fact]
    public async Task Csv_export_of_a_malformed_filter_is_a_problem_not_a_broken_file()
    {
        var (response, _) = await CsvAsync("from=2025-13");
        using (response) await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/csv")]
    [InlineData("*/*")]
    public async Task The_export_answers_csv_whatever_the_accept(string accept)
    {
        var indicator = await _kit.IndicatorAsync();
        var (response, _) = await CsvAsync($"indicator={indicator}", accept);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
