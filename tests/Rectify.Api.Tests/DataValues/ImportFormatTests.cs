using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// POST /api/v1/data-values/import in each accepted shape: a JSON array, a JSON object with values, and CSV in
/// the encodings and line endings scheduled jobs produce. Every value lands exactly as sent (decimals, comments
/// with commas, quotes, line breaks and Chinese text), with its source and the test clock's time.
/// </summary>
public sealed class ImportFormatTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    static void Stored(StoredValue value, string unit, string period, decimal expected, string? comment, DateTime at)
    {
        Assert.Equal((unit, period), (value.Unit, value.Period));
        Assert.Equal(expected, value.Value);
        Assert.Equal(expected.Scale, value.Value.Scale); // numeric keeps the digits sent: 0.810 is not 0.81
        Assert.Equal(comment, value.Comment);
        Assert.Equal(RectifyApp.ClientName, value.Source);
        Assert.Equal(at, value.CreatedAt);
        Assert.Equal(at, value.UpdatedAt);
        Assert.Equal(DateTimeKind.Utc, value.UpdatedAt.Kind);
    }

    [Fact]
    public async Task A_json_array_lands_every_value_exactly()
    {
        var indicator = await _kit.IndicatorAsync("monthly", "amount");
        app.Clock.Advance(TimeSpan.FromMinutes(7));
        var now = _kit.Now;

        var summary = await ImportKit.AppliedAsync(await _kit.PushJsonAsync(new object[]
        {
            new { indicator, unit = "460000", period = "2025-09", value = 0.810m, comment = "全省福利彩票销售额，单位：亿元" },
            new { indicator, unit = "460100", period = "2025-09", value = 12345678901234567.123456789m },
            new { indicator, unit = "460105", period = "2025-09", value = -3.5m, comment = "" },
            new { indicator, unit = "HNMZT", period = "2024-12", value = 0m },
        }));

        ImportKit.Counts(summary, received: 4, inserted: 4);
        Assert.True(summary["applied"]!.GetValue<bool>());
        Assert.False(summary["dryRun"]!.GetValue<bool>());
        Assert.True(summary["atomic"]!.GetValue<bool>());
        Assert.Equal("upsert", summary["strategy"]!.GetValue<string>());
        Assert.Empty(summary["errors"]!.AsArray());
        Assert.False(summary["errorsTruncated"]!.GetValue<bool>());

        var values = await _kit.ValuesAsync(indicator);
        Assert.Equal(4, values.Count);
        Stored(values[0], "460000", "2025-09", 0.810m, "全省福利彩票销售额，单位：亿元", now);
        Stored(values[1], "460100", "2025-09", 12345678901234567.123456789m, null, now);
        Stored(values[2], "460105", "2025-09", -3.5m, null, now); // an empty comment is no comment
        Stored(values[3], "HNMZT", "2024-12", 0m, null, now);
        Assert.Equal(1L, await _kit.PushJournalCountAsync(ImportKit.ImportId(summary)));
    }

    [Fact]
    public async Task A_json_object_with_values_lands_like_an_array()
    {
        var indicator = await _kit.IndicatorAsync();
        var now = _kit.Now;

        var summary = await ImportKit.AppliedAsync(await _kit.PushJsonAsync(new
        {
            values = new object[]
            {
                new { indicator, unit = "460100", period = "2025-08", value = 744, comment = "已排查居委会数" },
                new { indicator, unit = "460100", period = "2025-09", value = 1.5e3 },
            },
        }));

        ImportKit.Counts(summary, received: 2, inserted: 2);
        var values = await _kit.ValuesAsync(indicator);
        Stored(values[0], "460100", "2025-08", 744m, "已排查居委会数", now);
        Assert.Equal(1500m, values[1].Value);
    }

    [Fact]
    public async Task Json_with_whitespace_and_the_fields_in_any_order_is_read()
    {
        var indicator = await _kit.IndicatorAsync();
        var json = $$"""

              [
                { "comment": "逆序字段", "value": 1e2, "period": "2025-07", "unit": "460000", "indicator": "{{indicator}}" } ,
                {"indicator":"{{indicator}}","unit":"460000","period":"2025-08","value":2.50,"comment":null}
              ]

            """;
        var summary = await ImportKit.AppliedAsync(await _kit.PushRawJsonAsync(json));

        ImportKit.Counts(summary, received: 2, inserted: 2);
        var values = await _kit.ValuesAsync(indicator);
        Assert.Equal([100m, 2.50m], values.Select(v => v.Value));
        Assert.Equal(["逆序字段", null], values.Select(v => v.Comment));
    }

    [Theory]
    [InlineData(false, "\r\n")]
    [InlineData(false, "\n")]
    [InlineData(true, "\r\n")]
    [InlineData(true, "\n")]
    public async Task Csv_with_or_without_bom_and_either_line_ending_lands_quoted_fields_exactly(bool bom, string newline)
    {
        var indicator = await _kit.IndicatorAsync("monthly", "amount");
        var now = _kit.Now;
        var csv = ImportKit.Csv(
        [
            $"{indicator},460000,2025-09,6.97,\"全省福利彩票销售6.97亿元，同比增长19.7%\"",
            $"{indicator},460100,2025-09,1.59,\"含逗号, 以及\"\"引号\"\"\"",
            $"{indicator},460105,2025-09,4934,\"多行{newline}备注\"",
            $"{indicator},HNMZT,2025-09,18.6,",
            $"{indicator},HNMZT.SHSW,2025-09,  -0.25  ,plain note",
            $"\"{indicator}\",\"HNMZT.SHJZ\",\"2025-09\",\"0\",\"\"",
        ], newline);

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, bom: bom));

        ImportKit.Counts(summary, received: 6, inserted: 6);
        var values = (await _kit.ValuesAsync(indicator)).ToDictionary(v => v.Unit);
        Stored(values["460000"], "460000", "2025-09", 6.97m, "全省福利彩票销售6.97亿元，同比增长19.7%", now);
        Stored(values["460100"], "460100", "2025-09", 1.59m, "含逗号, 以及\"引号\"", now);
        Stored(values["460105"], "460105", "2025-09", 4934m, $"多行{newline}备注", now);
        Stored(values["HNMZT"], "HNMZT", "2025-09", 18.6m, null, now);
        Stored(values["HNMZT.SHSW"], "HNMZT.SHSW", "2025-09", -0.25m, "plain note", now);
        Stored(values["HNMZT.SHJZ"], "HNMZT.SHJZ", "2025-09", 0m, null, now);
    }

    [Fact]
    public async Task Csv_without_the_comment_column_and_with_a_header_in_other_case_lands()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-01,596", $"{indicator},460000,2025-02,558"], "\n", header: "Indicator, Unit ,PERIOD,value");

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, bom: true));

        ImportKit.Counts(summary, received: 2, inserted: 2);
        var values = await _kit.ValuesAsync(indicator);
        Assert.Equal([596m, 558m], values.Select(v => v.Value));
        Assert.All(values, v => Assert.Null(v.Comment));
    }

    [Fact]
    public async Task Csv_without_a_final_newline_and_with_blank_lines_lands_every_row()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = $"{ImportKit.CsvHeader}\r\n\r\n{indicator},460000,2025-01,1,a\r\n\r\n{indicator},460000,2025-02,2,b";

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv));

        ImportKit.Counts(summary, received: 2, inserted: 2);
        Assert.Equal([1m, 2m], (await _kit.ValuesAsync(indicator)).Select(v => v.Value));
    }

    [Theory]
    [InlineData("text/csv; charset=utf-8")]
    [InlineData("TEXT/CSV")]
    [InlineData("text/csv;charset=UTF-8;header=present")]
    public async Task Csv_is_recognised_by_its_media_type_with_parameters_and_in_any_case(string contentType)
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv([$"{indicator},460000,2025-03,42,"]);
        var summary = await ImportKit.AppliedAsync(await _kit.PushBytesAsync(System.Text.Encoding.UTF8.GetBytes(csv), contentType));
        ImportKit.Counts(summary, received: 1, inserted: 1);
    }

    [Fact]
    public async Task Quarterly_and_yearly_indicators_take_their_own_periods()
    {
        var quarterly = await _kit.IndicatorAsync("quarterly");
        var yearly = await _kit.IndicatorAsync("yearly");

        var summary = await ImportKit.AppliedAsync(await _kit.PushJsonAsync(new object[]
        {
            new { indicator = quarterly, unit = "460000", period = "2025-Q3", value = 93.6m },
            new { indicator = yearly, unit = "460000", period = "2025", value = 325 },
        }));

        ImportKit.Counts(summary, received: 2, inserted: 2);
        Assert.Equal("2025-Q3", Assert.Single(await _kit.ValuesAsync(quarterly)).Period);
        Assert.Equal("2025", Assert.Single(await _kit.ValuesAsync(yearly)).Period);
    }

    [Fact]
    public async Task An_empty_json_array_and_a_header_only_csv_write_nothing()
    {
        var journal = await _kit.PushJournalCountAsync();
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushRawJsonAsync("[]")), received: 0);
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushRawJsonAsync("{\"values\":[]}")), received: 0);
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.CsvHeader + "\r\n")), received: 0);
        Assert.Equal(journal, await _kit.PushJournalCountAsync());
    }
}
