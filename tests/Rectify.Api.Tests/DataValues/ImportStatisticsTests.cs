using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// A push larger than the data_values table the planner last saw analyses it first (autovacuum is off here, so only the
/// push can), so that the merge matches staged rows by the primary key instead of planning for a near-empty table.
/// </summary>
public sealed class ImportStatisticsTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    const string EstimatedRows = "SELECT reltuples FROM pg_class WHERE oid = 'data_values'::regclass";

    [Fact]
    public async Task A_push_larger_than_the_table_as_last_analysed_brings_its_statistics_up_to_date()
    {
        await app.ScalarAsync<int>("ALTER TABLE data_values SET (autovacuum_enabled = off); SELECT 1");
        var indicator = await _kit.IndicatorAsync();
        var units = await _kit.ManyUnitsAsync("STAT", 100);
        string Csv(int offset)
            => ImportKit.Csv(units.SelectMany(unit => Enumerable.Range(1, 12).Select(m => $"{indicator},{unit},2025-{m:D2},{m + offset},")));

        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(Csv(0))), received: 1200, inserted: 1200);
        // The first push analysed the table before its rows were in it.
        Assert.True(await app.ScalarAsync<float>(EstimatedRows) < 1200);

        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(Csv(1))), received: 1200, updated: 1200);
        var stored = await app.ScalarAsync<long>("SELECT count(*) FROM data_values");
        Assert.Equal(stored, await app.ScalarAsync<float>(EstimatedRows));
    }
}
