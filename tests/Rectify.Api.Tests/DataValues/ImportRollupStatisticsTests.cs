using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// A push that inserts more rows than data_values' statistics count, and whose rows roll up, analyses the table again after
/// its merge: the roll-ups' refresh reads the rows just written by key, not by a scan per key planned for a handful (which
/// took over 20 s for 40,000 rows after a rolled-back push had left as many dead ones: ApiProcessFaultTests).
/// </summary>
public sealed class ImportRollupStatisticsTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    [Fact]
    public async Task A_first_large_push_that_rolls_up_leaves_statistics_that_count_its_rows()
    {
        await app.ScalarAsync<int>("ALTER TABLE data_values SET (autovacuum_enabled = off); SELECT 1");
        var indicator = await _kit.IndicatorAsync();
        var units = await _kit.ManyUnitsAsync("ROLL", 100);
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM data_values");

        var pushed = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportStatisticsTests.Csv(indicator, units, 0)));
        ImportKit.Counts(pushed, received: 1200, inserted: 1200);

        Assert.Equal(before + 1200, await app.ScalarAsync<float>("SELECT reltuples FROM pg_class WHERE oid = 'data_values'::regclass"));
        // And the roll-ups it refreshed are there: the province's total of the first month is the sum of its counties'.
        Assert.Equal(100m * 1, await app.ScalarAsync<decimal>("""
            SELECT r.total FROM indicator_rollups r JOIN indicators i ON i.id = r.indicator_id
            WHERE i.code = @indicator AND r.unit_code = '460000' AND r.period = '2025-01'
            """, new { indicator }));
    }
}
