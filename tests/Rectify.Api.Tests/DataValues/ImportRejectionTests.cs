using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// Every reason a row is rejected, each named by its row number (CSV: the header is row 1; JSON: the first element
/// is row 1) and its field. Pushed with atomic=false so that the good rows around the bad ones are seen to land.
/// </summary>
public sealed class ImportRejectionTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    [Fact]
    public async Task Each_bad_csv_row_is_named_with_its_row_number_and_field()
    {
        var monthly = await _kit.IndicatorAsync();
        var quarterly = await _kit.IndicatorAsync("quarterly");
        var ratio = await _kit.RatioIndicatorAsync();
        var csv = ImportKit.Csv(
        [
            $"{monthly},460000,2025-09,1,ok",                        // 2  good
            "NO-SUCH-IND,460000,2025-09,1,",                         // 3  unknown indicator
            $"{monthly},999999,2025-09,1,",                          // 4  unknown unit
            $"{monthly},460000,2025-13,1,",                          // 5  no such month
            $"{quarterly},460000,2025-09,1,",                        // 6  a month for a quarterly indicator
            $"{monthly},460100,2025-09,abc,",                        // 7  not a number
            $"{monthly},460105,2025-09,\"1,234\",",                  // 8  thousands separator
            $"{monthly},HNMZT,2025-09,,",                            // 9  missing value
            $"{ratio},460000,2025-09,0.936,",                        // 10 a ratio is computed, never pushed
            $"{monthly},460000,2025-09,2,again",                     // 11 duplicate of row 2
            $"{monthly},460000,2025-10,1,x,extra",                   // 12 too many columns
            $"{monthly},460000,2025-11",                             // 13 too few columns
            $"{monthly},460000,2025-12,1,{new string('长', 2001)}",  // 14 comment over 2000 characters
            $"{quarterly},460000,2025-Q3,7,",                        // 15 good
            ",460000,2025-09,1,",                                    // 16 no indicator
            $"{monthly},460000,2025/08,1,",                          // 17 not a period
            $"{monthly},,2025-08,1,",                                // 18 no unit
            $"{monthly},460000,2025-08,NaN,",                        // 19 not a number either
        ]);

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "atomic=false"));

        ImportKit.Counts(summary, received: 18, inserted: 2, rejected: 16);
        Assert.Equal(
        [
            (3, "indicator"), (4, "unit"), (5, "period"), (6, "period"), (7, "value"), (8, "value"), (9, "value"), (10, "indicator"),
            (11, "row"), (12, "row"), (13, "row"), (14, "comment"), (16, "indicator"), (17, "period"), (18, "unit"), (19, "value"),
        ], ImportKit.Errors(summary));
        Assert.Contains("NO-SUCH-IND", ImportKit.Message(summary, 3));
        Assert.Contains("999999", ImportKit.Message(summary, 4));
        Assert.Contains("YYYY-Qn", ImportKit.Message(summary, 6));
        Assert.Contains("ratio", ImportKit.Message(summary, 10));
        Assert.Contains("row 2", ImportKit.Message(summary, 11));
        Assert.Contains("2000", ImportKit.Message(summary, 14));

        var values = await _kit.ValuesAsync(monthly);
        var only = Assert.Single(values);
        Assert.Equal(("460000", "2025-09", 1m, "ok"), (only.Unit, only.Period, only.Value, only.Comment)); // the first of the duplicates
        Assert.Equal(7m, Assert.Single(await _kit.ValuesAsync(quarterly)).Value);
        Assert.Equal(0L, await _kit.CountAsync(ratio));
    }

    [Fact]
    public async Task Each_bad_json_element_is_named_with_its_position_and_field()
    {
        var indicator = await _kit.IndicatorAsync();
        var json = $$"""
            [
              { "indicator": "{{indicator}}", "unit": "460000", "period": "2025-09", "value": 1 },
              { "indicator": "{{indicator}}", "unit": "460100", "period": "2025-09", "value": "12" },
              { "indicator": "{{indicator}}", "unit": "460105", "period": "2025-09" },
              { "indicator": "{{indicator}}", "unit": "HNMZT", "period": "2025-09", "value": 3, "amount": 3 },
              5,
              { "indicator": 17, "unit": "460000", "period": "2025-08", "value": 1 },
              { "indicator": "{{indicator}}", "unit": "460000", "period": "2025-07", "value": null },
              { "indicator": "{{indicator}}", "unit": "460000", "period": "2025-09", "value": 2 },
              { "indicator": "{{indicator}}", "unit": "460000", "period": "2025-06", "value": 1e400 },
              { "indicator": "{{indicator}}", "unit": "460000", "period": "2025-05", "value": 5, "comment": "好" }
            ]
            """;

        var summary = await ImportKit.AppliedAsync(await _kit.PushRawJsonAsync(json, "atomic=false"));

        ImportKit.Counts(summary, received: 10, inserted: 2, rejected: 8);
        Assert.Equal([(2, "value"), (3, "value"), (4, "amount"), (5, "row"), (6, "indicator"), (7, "value"), (8, "row"), (9, "value")],
            ImportKit.Errors(summary));
        Assert.Contains("JSON number", ImportKit.Message(summary, 2));
        Assert.Contains("Unknown field", ImportKit.Message(summary, 4));
        Assert.Contains("row 1", ImportKit.Message(summary, 8));
        Assert.Equal([("2025-05", 5m), ("2025-09", 1m)], (await _kit.ValuesAsync(indicator)).Select(v => (v.Period, v.Value)));
    }

    [Fact]
    public async Task Codes_are_exact_but_surrounding_spaces_are_ignored()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv(
        [
            $" {indicator} , 460000 , 2025-09 ,1,",
            $"{indicator.ToLowerInvariant()},460000,2025-08,1,",
            $"{indicator},hnmzt,2025-08,1,",
        ]);
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "atomic=false"));

        ImportKit.Counts(summary, received: 3, inserted: 1, rejected: 2);
        Assert.Equal([(3, "indicator"), (4, "unit")], ImportKit.Errors(summary));
        Assert.Equal("2025-09", Assert.Single(await _kit.ValuesAsync(indicator)).Period);
    }

    [Fact]
    public async Task A_locked_period_is_refused_without_a_revision_reason_and_taken_with_one()
    {
        var indicator = await _kit.IndicatorAsync();
        var round = await _kit.PublishLockAsync(indicator, "2019-11");
        var csv = ImportKit.Csv([$"{indicator},460000,2019-10,10,", $"{indicator},460000,2019-11,11,"]);

        var refused = await ImportKit.RefusedAsync(await _kit.PushCsvAsync(csv));
        Assert.Equal([(3, "period")], ImportKit.Errors(refused));
        Assert.Equal($"Row 3: 2019-11 of this indicator and unit is locked by the published snapshot {round} 2019-11 (revision 1): "
            + "send revisionReason to revise it.", ImportKit.Message(refused, 3));
        Assert.Equal(0L, await _kit.CountAsync(indicator));

        var partial = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "atomic=false"));
        ImportKit.Counts(partial, received: 2, inserted: 1, rejected: 1);
        Assert.Equal(["2019-10"], (await _kit.ValuesAsync(indicator)).Select(v => v.Period));

        const string reason = "民政厅更正：2019年11月数据复核后修订";
        var revised = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "revisionReason=" + Uri.EscapeDataString(reason)));
        ImportKit.Counts(revised, received: 2, inserted: 1, unchanged: 1);
        Assert.Equal([("2019-10", 10m), ("2019-11", 11m)], (await _kit.ValuesAsync(indicator)).Select(v => (v.Period, v.Value)));
        Assert.Equal(reason, await app.ScalarAsync<string>(
            "SELECT after->>'revisionReason' FROM journal WHERE entity = 'data-values' AND entity_id = @id", new { id = ImportKit.ImportId(revised) }));
        Assert.Equal(0L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM journal WHERE entity = 'data-values' AND entity_id = @id AND after->>'revisionReason' IS NOT NULL",
            new { id = ImportKit.ImportId(partial) }));

        // Deleting a locked value is a change like any other.
        var delete = ImportKit.Csv([$"{indicator},460000,2019-11,,"]);
        Assert.Equal([(2, "period")], ImportKit.Errors(await ImportKit.RefusedAsync(await _kit.PushCsvAsync(delete, "strategy=delete"))));
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(delete, "strategy=delete&revisionReason=" + Uri.EscapeDataString(reason))),
            received: 1, deleted: 1);
        Assert.Equal(["2019-10"], (await _kit.ValuesAsync(indicator)).Select(v => v.Period));
    }

    [Fact]
    public async Task A_revision_reason_over_500_characters_is_a_bad_request()
    {
        var indicator = await _kit.IndicatorAsync();
        using var response = await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-09,1,"]), "revisionReason=" + new string('r', 501));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotNull(problem["errors"]!["revisionReason"]); // named as the caller wrote it, not as the C# property
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task Rejections_in_a_large_push_are_listed_in_row_order()
    {
        var indicator = await _kit.IndicatorAsync();
        var rows = Enumerable.Range(0, 300).Select(i => i % 3 == 0
            ? $"{indicator},460000,2025-09,x{i},"                          // not a number
            : $"{indicator},460000,{2100 + i / 12:D4}-{i % 12 + 1:D2},{i},");   // years no other test of the class locks
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows), "atomic=false"));

        ImportKit.Counts(summary, received: 300, inserted: 200, rejected: 100);
        var errors = ImportKit.Errors(summary);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (2 + 3 * i, "value")), errors);
        Assert.Equal(200L, await _kit.CountAsync(indicator));
    }
}
