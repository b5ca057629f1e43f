using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// atomic=true (the default): one bad row refuses the whole push with a 422 problem that carries the per-row report,
/// and nothing is written. atomic=false: the good rows land (200) and the bad ones are listed. dryRun=true: the
/// same checks and counts, and nothing is written whatever the strategy.
/// </summary>
public sealed class ImportAtomicityTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    static string[] Rows(string indicator) =>
    [
        $"{indicator},460000,2025-07,10,",
        $"{indicator},460100,2025-07,20,",
        $"{indicator},460105,2025-07,abc,",
        $"{indicator},HNMZT,2025-07,40,",
    ];

    [Fact]
    public async Task An_atomic_push_with_one_bad_row_is_refused_whole_and_writes_nothing()
    {
        var indicator = await _kit.IndicatorAsync();
        var journal = await _kit.PushJournalCountAsync();

        foreach (var query in new[] { "", "atomic=true" })
        {
            var summary = await ImportKit.RefusedAsync(await _kit.PushCsvAsync(ImportKit.Csv(Rows(indicator)), query));

            ImportKit.Counts(summary, received: 4, rejected: 1);
            Assert.True(summary["atomic"]!.GetValue<bool>());
            Assert.Equal([(4, "value")], ImportKit.Errors(summary));
            Assert.Contains("abc", ImportKit.Message(summary, 4));
        }
        Assert.Equal(0L, await _kit.CountAsync(indicator));
        Assert.Equal(journal, await _kit.PushJournalCountAsync());
    }

    [Fact]
    public async Task An_atomic_json_push_with_one_bad_row_is_refused_whole()
    {
        var indicator = await _kit.IndicatorAsync();
        var summary = await ImportKit.RefusedAsync(await _kit.PushJsonAsync(new object[]
        {
            new { indicator, unit = "460000", period = "2025-07", value = 1 },
            new { indicator, unit = "NOPE", period = "2025-07", value = 2 },
        }));
        ImportKit.Counts(summary, received: 2, rejected: 1);
        Assert.Equal([(2, "unit")], ImportKit.Errors(summary));
        Assert.Equal(0L, await _kit.CountAsync(indicator));
    }

    [Fact]
    public async Task An_atomic_push_refused_at_the_database_step_writes_nothing_either()
    {
        // strategy=create finds existing values only in the database (inside the transaction): the refusal must roll back the new rows.
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460100,2025-07,20,"])));
        var journal = await _kit.PushJournalCountAsync();

        var summary = await ImportKit.RefusedAsync(await _kit.PushCsvAsync(
            ImportKit.Csv([$"{indicator},460000,2025-07,10,", $"{indicator},460100,2025-07,21,", $"{indicator},HNMZT,2025-07,40,"]), "strategy=create"));

        ImportKit.Counts(summary, received: 3, rejected: 1);
        Assert.Equal([(3, "row")], ImportKit.Errors(summary));
        Assert.Equal([("460100", 20m)], (await _kit.ValuesAsync(indicator)).Select(v => (v.Unit, v.Value)));
        Assert.Equal(journal, await _kit.PushJournalCountAsync());
    }

    [Fact]
    public async Task A_non_atomic_push_lands_the_good_rows_and_lists_the_bad_ones()
    {
        var indicator = await _kit.IndicatorAsync();
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(Rows(indicator)), "atomic=false"));

        ImportKit.Counts(summary, received: 4, inserted: 3, rejected: 1);
        Assert.True(summary["applied"]!.GetValue<bool>());
        Assert.False(summary["atomic"]!.GetValue<bool>());
        Assert.Equal([(4, "value")], ImportKit.Errors(summary));
        Assert.Equal([("460000", 10m), ("460100", 20m), ("HNMZT", 40m)], (await _kit.ValuesAsync(indicator)).Select(v => (v.Unit, v.Value)));
        Assert.Equal(1L, await _kit.PushJournalCountAsync(ImportKit.ImportId(summary)));
    }

    [Fact]
    public async Task A_non_atomic_push_of_only_bad_rows_answers_200_with_every_row_rejected_and_writes_nothing()
    {
        // Good rows land and bad rows are listed: with no good row, nothing lands, and that is still not a refusal.
        var indicator = await _kit.IndicatorAsync();
        var journal = await _kit.PushJournalCountAsync();
        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(
            ImportKit.Csv([$"{indicator},460000,2025-07,x,", $"{indicator},NOPE,2025-07,1,"]), "atomic=false"));

        ImportKit.Counts(summary, received: 2, rejected: 2);
        Assert.False(summary["atomic"]!.GetValue<bool>());
        Assert.False(summary["applied"]!.GetValue<bool>());
        Assert.Equal([(2, "value"), (3, "unit")], ImportKit.Errors(summary));
        Assert.Equal(0L, await _kit.CountAsync(indicator));
        Assert.Equal(journal, await _kit.PushJournalCountAsync());
    }

    [Fact]
    public async Task A_non_atomic_json_push_of_one_unknown_indicator_answers_200_with_the_row_rejected()
    {
        var key = Guid.NewGuid().ToString();
        foreach (var attempt in new[] { (string?)null, key })
        {
            var summary = await ImportKit.AppliedAsync(await _kit.PushJsonAsync(
                new object[] { new { indicator = "NO-SUCH-INDICATOR", unit = "460000", period = "2025-07", value = 1 } }, "atomic=false", attempt));
            ImportKit.Counts(summary, received: 1, rejected: 1);
            Assert.False(summary["applied"]!.GetValue<bool>());
            Assert.Equal([(1, "indicator")], ImportKit.Errors(summary));
        }
    }

    /// <summary>Two stored values (460000 = 10, 460100 = 20) and what the dry runs compare against.</summary>
    async Task<(string Indicator, List<StoredValue> Before)> StoredAsync()
    {
        var indicator = await _kit.IndicatorAsync();
        await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-07,10,", $"{indicator},460100,2025-07,20,"])));
        app.Clock.Advance(TimeSpan.FromHours(1));
        return (indicator, await _kit.ValuesAsync(indicator));
    }

    async Task WroteNothingAsync(string indicator, List<StoredValue> before, long journal, long deletions)
    {
        var after = await _kit.ValuesAsync(indicator);
        Assert.Equal(before.Select(v => (v.Unit, v.Period, v.Value, v.Comment, v.UpdatedAt, v.Xmin)),
            after.Select(v => (v.Unit, v.Period, v.Value, v.Comment, v.UpdatedAt, v.Xmin)));
        Assert.Equal(journal, await _kit.PushJournalCountAsync());
        Assert.Equal(deletions, await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions"));
    }

    [Fact]
    public async Task A_dry_run_upsert_reports_the_would_be_counts_and_writes_nothing()
    {
        var (indicator, before) = await StoredAsync();
        var journal = await _kit.PushJournalCountAsync();
        var deletions = await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions");
        var csv = ImportKit.Csv([$"{indicator},460000,2025-07,10,", $"{indicator},460100,2025-07,21,", $"{indicator},HNMZT,2025-07,40,"]);

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "dryRun=true"));

        ImportKit.Counts(summary, received: 3, inserted: 1, updated: 1, unchanged: 1);
        Assert.True(summary["dryRun"]!.GetValue<bool>());
        Assert.False(summary["applied"]!.GetValue<bool>());
        await WroteNothingAsync(indicator, before, journal, deletions);

        // The real push then does what the dry run said.
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv)), received: 3, inserted: 1, updated: 1, unchanged: 1);
    }

    [Fact]
    public async Task A_dry_run_create_reports_the_existing_rows_and_writes_nothing()
    {
        var (indicator, before) = await StoredAsync();
        var journal = await _kit.PushJournalCountAsync();
        var deletions = await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions");
        var csv = ImportKit.Csv([$"{indicator},460000,2025-07,11,", $"{indicator},HNMZT,2025-07,40,", $"{indicator},460105,2025-07,50,"]);

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "dryRun=true&strategy=create&atomic=false"));

        ImportKit.Counts(summary, received: 3, inserted: 2, rejected: 1);
        Assert.Equal("create", summary["strategy"]!.GetValue<string>());
        Assert.Equal([(2, "row")], ImportKit.Errors(summary));
        await WroteNothingAsync(indicator, before, journal, deletions);
    }

    [Fact]
    public async Task A_dry_run_delete_reports_the_would_be_deletions_and_deletes_nothing()
    {
        var (indicator, before) = await StoredAsync();
        var journal = await _kit.PushJournalCountAsync();
        var deletions = await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions");
        var csv = ImportKit.Csv([$"{indicator},460000,2025-07,,", $"{indicator},HNMZT,2025-07,,"]);

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(csv, "dryRun=true&strategy=delete"));

        ImportKit.Counts(summary, received: 2, deleted: 1, unchanged: 1);
        Assert.Equal("delete", summary["strategy"]!.GetValue<string>());
        await WroteNothingAsync(indicator, before, journal, deletions);
    }

    [Fact]
    public async Task A_dry_run_with_bad_rows_reports_them_with_200_and_writes_nothing()
    {
        var (indicator, before) = await StoredAsync();
        var journal = await _kit.PushJournalCountAsync();
        var deletions = await app.ScalarAsync<long>("SELECT count(*) FROM data_value_deletions");

        var summary = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(
            ImportKit.Csv([$"{indicator},460000,2025-07,12,", $"{indicator},460100,2025-07,abc,"]), "dryRun=true"));

        ImportKit.Counts(summary, received: 2, updated: 1, rejected: 1);
        Assert.False(summary["applied"]!.GetValue<bool>());
        Assert.Equal([(3, "value")], ImportKit.Errors(summary));
        await WroteNothingAsync(indicator, before, journal, deletions);
    }
}
