using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// Counts are exact for each strategy: inserted, updated (value or comment differs), unchanged (not rewritten:
/// the row keeps its transaction id and updated_at), deleted (and recorded for readers that sync). A value of 0 is a value.
/// </summary>
public sealed class ImportCountTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    /// <summary>Rows for units × months 2025-01…: value = 100 × unit index + month.</summary>
    static List<string> Grid(string indicator, int months, Func<int, int, string>? value = null, Func<int, int, string>? comment = null)
    {
        string[] units = ["460000", "460100", "460105", "HNMZT", "HNMZT.SHSW", "HNMZT.SHJZ"];
        return units.SelectMany((unit, u) => Enumerable.Range(1, months).Select(m =>
            $"{indicator},{unit},2025-{m:D2},{value?.Invoke(u, m) ?? (100 * u + m).ToString(System.Globalization.CultureInfo.InvariantCulture)},{comment?.Invoke(u, m)}")).ToList();
    }

    [Fact]
    public async Task A_first_push_inserts_all_and_the_same_push_again_is_unchanged_and_rewrites_nothing()
    {
        var indicator = await _kit.IndicatorAsync();
        var csv = ImportKit.Csv(Grid(indicator, 12, comment: (u, m) => u == 0 ? $"第{m}月" : ""));
        var first = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv));
        ImportKit.Counts(first, received: 72, inserted: 72);
        var before = await _kit.ValuesAsync(indicator);

        app.Clock.Advance(TimeSpan.FromDays(1));
        var again = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv));

        ImportKit.Counts(again, received: 72, unchanged: 72);
        Assert.True(again["applied"]!.GetValue<bool>());
        Assert.NotEqual(ImportKit.ImportId(first), ImportKit.ImportId(again));
        var after = await _kit.ValuesAsync(indicator);
        Assert.Equal(before.Select(v => (v.Unit, v.Period, v.Value, v.Comment, v.CreatedAt, v.UpdatedAt, v.Xmin)),
            after.Select(v => (v.Unit, v.Period, v.Value, v.Comment, v.CreatedAt, v.UpdatedAt, v.Xmin)));
    }

    [Fact]
    public async Task Changed_values_and_comments_count_as_updated_and_only_they_are_rewritten()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(Grid(indicator, 3, comment: (u, _) => u == 1 ? "原备注" : ""))));
        var before = (await _kit.ValuesAsync(indicator)).ToDictionary(v => (v.Unit, v.Period));
        app.Clock.Advance(TimeSpan.FromHours(2));
        var later = _kit.Now;

        // 460000/2025-01: value changed; 460100/*: comment changed (3 rows); HNMZT/2025-02: comment added;
        // 460105/2025-03: the same number written with more digits (numerically equal: unchanged).
        var rows = Grid(indicator, 3,
            value: (u, m) => (u, m) switch { (0, 1) => "999", (2, 3) => "203.000", _ => (100 * u + m).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            comment: (u, m) => u == 1 ? "修订备注" : (u, m) == (3, 2) ? "新增备注" : "");
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows)));

        ImportKit.Counts(summary, received: 18, updated: 5, unchanged: 13);
        var after = (await _kit.ValuesAsync(indicator)).ToDictionary(v => (v.Unit, v.Period));
        (string, string)[] changed = [("460000", "2025-01"), ("460100", "2025-01"), ("460100", "2025-02"), ("460100", "2025-03"), ("HNMZT", "2025-02")];
        foreach (var (key, value) in after)
        {
            var old = before[key];
            Assert.Equal(old.CreatedAt, value.CreatedAt);
            if (changed.Contains(key))
            {
                Assert.Equal(later, value.UpdatedAt);
                Assert.NotEqual(old.Xmin, value.Xmin);
            }
            else
            {
                Assert.Equal(old.UpdatedAt, value.UpdatedAt);
                Assert.Equal(old.Xmin, value.Xmin);
            }
        }
        Assert.Equal(999m, after[("460000", "2025-01")].Value);
        Assert.Equal("修订备注", after[("460100", "2025-02")].Comment);
        Assert.Equal("新增备注", after[("HNMZT", "2025-02")].Comment);
        Assert.Equal(203m, after[("460105", "2025-03")].Value);
    }

    [Fact]
    public async Task Removing_a_comment_counts_as_updated()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-01,5,有备注", $"{indicator},460000,2025-02,6,"])));

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(
            ImportKit.Csv([$"{indicator},460000,2025-01,5", $"{indicator},460000,2025-02,6"], header: "indicator,unit,period,value")));

        ImportKit.Counts(summary, received: 2, updated: 1, unchanged: 1);
        Assert.All(await _kit.ValuesAsync(indicator), v => Assert.Null(v.Comment));
    }

    [Fact]
    public async Task Zero_is_a_value_not_a_deletion()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-01,5,", $"{indicator},460100,2025-01,7,"])));
        var deletions = await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions WHERE indicator_code = @indicator", new { indicator });

        var summary = await ImportKit.AppliedAsync(await _kit.PushJsonAsync(new object[]
        {
            new { indicator, unit = "460000", period = "2025-01", value = 0 },
            new { indicator, unit = "460105", period = "2025-01", value = 0.00m },
        }));
        ImportKit.Counts(summary, received: 2, inserted: 1, updated: 1);
        var csv = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460100,2025-01,0,"])));
        ImportKit.Counts(csv, received: 1, updated: 1);

        Assert.Equal([("460000", 0m), ("460100", 0m), ("460105", 0m)], (await _kit.ValuesAsync(indicator)).Select(v => (v.Unit, v.Value)));
        Assert.Equal(deletions, await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions WHERE indicator_code = @indicator", new { indicator }));
    }

    [Fact]
    public async Task Create_refuses_existing_values_by_row_when_atomic_and_inserts_the_others_when_not()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460100,2025-01,1,", $"{indicator},HNMZT,2025-01,2,"])));
        var before = await _kit.ValuesAsync(indicator);
        var csv = ImportKit.Csv(
        [
            $"{indicator},460000,2025-01,10,",
            $"{indicator},HNMZT,2025-01,20,",   // 3: exists
            $"{indicator},460105,2025-01,30,",
            $"{indicator},460100,2025-01,1,",   // 5: exists, even with the same value
        ]);

        var refused = await ImportKit.RefusedAsync(await _kit.PushCsvAsync(csv, "strategy=create"));
        ImportKit.Counts(refused, received: 4, rejected: 2);
        Assert.Equal([(3, "row"), (5, "row")], ImportKit.Errors(refused));
        Assert.Contains("already exists", ImportKit.Message(refused, 3));
        Assert.Equal(before.Select(v => (v.Unit, v.Value, v.Xmin)), (await _kit.ValuesAsync(indicator)).Select(v => (v.Unit, v.Value, v.Xmin)));

        var partial = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "strategy=create&atomic=false"));
        ImportKit.Counts(partial, received: 4, inserted: 2, rejected: 2);
        Assert.Equal([(3, "row"), (5, "row")], ImportKit.Errors(partial));
        Assert.Equal([("460000", 10m), ("460100", 1m), ("460105", 30m), ("HNMZT", 2m)],
            (await _kit.ValuesAsync(indicator)).Select(v => (v.Unit, v.Value)));
    }

    [Fact]
    public async Task Create_lists_existing_rows_and_bad_rows_together_in_row_order()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-02,1,", $"{indicator},460105,2025-02,2,"])));

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(
        [
            $"{indicator},460100,2025-02,x,",   // 2: not a number (found while reading)
            $"{indicator},460000,2025-02,3,",   // 3: exists (found in the database, after reading)
            $"{indicator},HNMZT,2025-02,4,",
            $"{indicator},460105,2025-02,5,",   // 5: exists
            $"{indicator},NOPE,2025-02,6,",     // 6: unknown unit
        ]), "strategy=create&atomic=false"));

        ImportKit.Counts(summary, received: 5, inserted: 1, rejected: 4);
        Assert.Equal([(2, "value"), (3, "row"), (5, "row"), (6, "unit")], ImportKit.Errors(summary));
    }

    [Fact]
    public async Task Delete_removes_the_named_values_counts_absent_ones_as_unchanged_and_records_the_deletions()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(
            [$"{indicator},460000,2025-01,10,", $"{indicator},460100,2025-01,0,", $"{indicator},460105,2025-01,30.5,", $"{indicator},HNMZT,2025-01,40,"])));
        var lastDeletion = await app.ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM data_value_deletions");
        app.Clock.Advance(TimeSpan.FromMinutes(30));
        var deletedAt = _kit.Now;

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(
        [
            $"{indicator},460100,2025-01,,",     // a stored 0 is deleted like any value
            $"{indicator},460105,2025-01,999,",  // the value column is not compared when deleting
            $"{indicator},460000,2025-02,,",     // absent
        ]), "strategy=delete"));

        ImportKit.Counts(summary, received: 3, deleted: 2, unchanged: 1);
        Assert.Equal(["460000", "HNMZT"], (await _kit.ValuesAsync(indicator)).Select(v => v.Unit));

        var page = await _kit.Client.GetJsonAsync($"/api/v1/data-values/deletions?cursor={Cursor(lastDeletion)}");
        var mine = page["items"]!.AsArray().Where(d => d!["indicator"]!.GetValue<string>() == indicator).ToList();
        Assert.Equal([("460100", "2025-01", 0m), ("460105", "2025-01", 30.5m)],
            mine.Select(d => (d!["unit"]!.GetValue<string>(), d["period"]!.GetValue<string>(), d["value"]!.GetValue<decimal>())).OrderBy(d => d.Item1));
        Assert.All(mine, d =>
        {
            Assert.Equal(RectifyApp.ClientName, d!["deletedBy"]!.GetValue<string>());
            Assert.Equal(deletedAt, d["deletedAt"]!.GetValue<DateTime>().ToUniversalTime());
        });

        // Deleting again finds nothing: all unchanged, no further deletion rows.
        var again = await ImportKit.AppliedAsync(await _kit.PushJsonAsync(new object[]
        {
            new { indicator, unit = "460100", period = "2025-01" },
            new { indicator, unit = "460105", period = "2025-01" },
        }, "strategy=delete"));
        ImportKit.Counts(again, received: 2, unchanged: 2);
        Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions WHERE indicator_code = @indicator", new { indicator }));
    }

    /// <summary>The cursor after deletion <paramref name="id"/>, spelt as the service spells its cursors (paging itself is tested on the list).</summary>
    static string Cursor(long id)
        => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"k1:{id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [Fact]
    public async Task Deletions_are_paged_oldest_first()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(Grid(indicator, 1))));
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(Grid(indicator, 1, value: (_, _) => "")), "strategy=delete"));
        ImportKit.Counts(summary, received: 6, deleted: 6);

        var ids = new List<long>();
        string? cursor = null;
        do
        {
            var page = await _kit.Client.GetJsonAsync("/api/v1/data-values/deletions?limit=4" + (cursor is null ? "" : "&cursor=" + cursor));
            ids.AddRange(page["items"]!.AsArray().Select(d => d!["id"]!.GetValue<long>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);

        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions"), ids.Count);
    }

    [Fact]
    public async Task An_unknown_strategy_is_a_bad_request()
    {
        var indicator = await _kit.IndicatorAsync();
        using var response = await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-01,1,"]), "strategy=Upsert");
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["strategy"]);
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }
}
