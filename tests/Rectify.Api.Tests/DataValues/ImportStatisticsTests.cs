using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// A push larger than the data_values table the planner last saw analyses it first (autovacuum is off here, so only the
/// push can), so that the merge matches staged rows by the primary key instead of planning for a near-empty table
/// (<see cref="ImportRollupStatisticsTests"/>: and after the merge when its rows roll up).
/// </summary>
public sealed class ImportStatisticsTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    const string EstimatedRows = "SELECT reltuples FROM pg_class WHERE oid = 'data_values'::regclass";

    async Task<string[]> UnitsWithoutParentAsync(string prefix, int count)
    {
        await app.ScalarAsync<int>("""
            INSERT INTO units (code, name, kind) SELECT @prefix || '-' || lpad(n::text, 4, '0'), '测试单位' || n, 'county'
            FROM generate_series(1, @count) n;
            SELECT 1;
            """, new { prefix, count });
        return Enumerable.Range(1, count).Select(n => $"{prefix}-{n:D4}").ToArray();
    }

    internal static string Csv(string indicator, IEnumerable<string> units, int offset)
        => ImportKit.Csv(units.SelectMany(unit => Enumerable.Range(1, 12).Select(m => $"{indicator},{unit},2025-{m:D2},{m + offset},")));

    [Fact]
    public async Task A_push_larger_than_the_table_as_last_analysed_brings_its_statistics_up_to_date()
    {
        await app.ScalarAsync<int>("ALTER TABLE data_values SET (autovacuum_enabled = off); SELECT 1");
        var indicator = await _kit.IndicatorAsync();
        var units = await UnitsWithoutParentAsync("STAT", 100);

        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(Csv(indicator, units, 0))), received: 1200, inserted: 1200);
        // The first push analysed the table before its rows were in it (nothing rolls up: not after them).
        Assert.True(await app.ScalarAsync<float>(EstimatedRows) < 1200);

        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(Csv(indicator, units, 1))), received: 1200, updated: 1200);
        var stored = await app.ScalarAsync<long>("SELECT count(*) FROM data_values");
        Assert.Equal(stored, await app.ScalarAsync<float>(EstimatedRows));
    }
}
