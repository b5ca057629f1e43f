using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Indicators;

/// <summary>
/// Indicator calls the indicator, series and completeness tests share: a region tree of the reference case, create
/// and read indicators through the API, push values through the import endpoint.
/// </summary>
public sealed class IndicatorKit(RectifyApp app)
{
    public HttpClient Client { get; } = app.Client();

    public Seed Seed { get; } = new(app);

    /// <summary>
    /// 海南省 460000 → 海口市 460100 (秀英区 460105, 龙华区 460106), 三亚市 460200 (海棠区 460202, 吉阳区 460203),
    /// 儋州市 460400; the department HNMZT (with division HNMZT.SHSW) also hangs under the province.
    /// </summary>
    public async Task RegionsAsync()
    {
        await Seed.UnitsAsync();
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind, parent_code) VALUES
              ('460106', '龙华区', 'district', '460100'),
              ('460200', '三亚市', 'city', '460000'),
              ('460202', '海棠区', 'district', '460200'),
              ('460203', '吉阳区', 'district', '460200'),
              ('460400', '儋州市', 'city', '460000')
            ON CONFLICT DO NOTHING;
            SELECT 1;
            """);
    }

    /// <summary>Units of one test only, without a parent: completeness totals per unit then count that test's reports alone.</summary>
    public async Task<string[]> OwnUnitsAsync(int count)
    {
        var codes = Enumerable.Range(0, count).Select(_ => Seed.Unique("U")).ToArray();
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind) SELECT c, '测试县' || c, 'county' FROM unnest(@codes::text[]) c;
            SELECT 1;
            """, new { codes });
        return codes;
    }

    /// <summary>A create body with every required field; callers add or replace what their test is about.</summary>
    public static Dictionary<string, object?> Body(string? code = null, string name = "福利彩票销售额", string valueType = "amount",
        string frequency = "monthly", string regionAggregation = "sum", string timeAggregation = "flow", string measureUnit = "万元")
        => new()
        {
            ["code"] = code ?? Seed.Unique("IND"), ["name"] = name, ["measureUnit"] = measureUnit, ["valueType"] = valueType,
            ["frequency"] = frequency, ["regionAggregation"] = regionAggregation, ["timeAggregation"] = timeAggregation,
            ["direction"] = "higher_is_better",
        };

    /// <summary>A ratio body: numerator / denominator, in % unless told otherwise.</summary>
    public static Dictionary<string, object?> RatioBody(string numerator, string denominator, string measureUnit = "%", string frequency = "monthly")
    {
        var body = Body(name: "问题整改完成率", valueType: "ratio", frequency: frequency, measureUnit: measureUnit, timeAggregation: "stock");
        body["numerator"] = numerator;
        body["denominator"] = denominator;
        return body;
    }

    /// <summary>Creates an indicator (asserting 201) and returns its code, ETag and body.</summary>
    public async Task<(string Code, string ETag, JsonNode Body)> CreateAsync(Dictionary<string, object?> body)
    {
        using var response = await Client.PostJsonAsync("/api/v1/indicators", body);
        var created = await response.ShouldBeAsync(HttpStatusCode.Created);
        return (created["code"]!.GetValue<string>(), response.ETag(), created);
    }

    public async Task<string> CreateCodeAsync(Dictionary<string, object?> body) => (await CreateAsync(body)).Code;

    public async Task<(JsonNode Body, string ETag)> GetAsync(string code)
    {
        using var response = await Client.GetAsync($"/api/v1/indicators/{code}", TestContext.Current.CancellationToken);
        var body = await response.ShouldBeAsync(HttpStatusCode.OK);
        return (body, response.ETag());
    }

    /// <summary>An update body that keeps every field of <paramref name="indicator"/> (the code is the URL's).</summary>
    public static Dictionary<string, object?> UpdateBody(JsonNode indicator)
    {
        var body = indicator.AsObject().ToDictionary(p => p.Key, p => (object?)p.Value?.DeepClone());
        foreach (var serverOwned in new[] { "code", "createdAt", "updatedAt" }) body.Remove(serverOwned);
        return body;
    }

    /// <summary>Pushes values through the import endpoint (JSON), asserting that every row was taken.</summary>
    public async Task PushAsync(params (string Indicator, string Unit, string Period, decimal Value)[] values)
    {
        using var response = await Client.PostJsonAsync("/api/v1/data-values/import",
            values.Select(v => new { indicator = v.Indicator, unit = v.Unit, period = v.Period, value = v.Value }).ToArray());
        var summary = await response.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal(0, summary["rejected"]!.GetValue<long>());
        Assert.Equal(values.Length,
            summary["inserted"]!.GetValue<long>() + summary["updated"]!.GetValue<long>() + summary["unchanged"]!.GetValue<long>());
    }

    /// <summary>The messages of <paramref name="field"/> in a validation problem (camelCase or PascalCase key).</summary>
    public static JsonNode? Error(JsonNode problem, string field)
        => problem["errors"]?[field] ?? problem["errors"]?[char.ToUpperInvariant(field[0]) + field[1..]];

    public static string[] Strings(JsonNode? array) => array!.AsArray().Select(s => s!.GetValue<string>()).ToArray();

    public static long[] Longs(JsonNode? array) => array!.AsArray().Select(s => s!.GetValue<long>()).ToArray();

    public Task<long> CountAsync(string code) => app.ScalarAsync<long>("SELECT count(*) FROM indicators WHERE code = @code", new { code });
}
