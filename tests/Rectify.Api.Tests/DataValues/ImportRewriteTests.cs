using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// An unchanged push rewrites nothing, as PostgreSQL itself counts it: n_tup_upd of data_values does not grow, while
/// a push that changes one value makes it grow by exactly one. A class of its own, so that no other test's writes
/// land in this database's statistics.
/// </summary>
public sealed class ImportRewriteTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    /// <summary>
    /// Updates of data_values as the statistics show them. A backend reports its counts at most about once a second
    /// after it goes idle, so this waits until the count reaches <paramref name="atLeast"/>, then long enough for
    /// any later report to arrive, and returns the settled count.
    /// </summary>
    async Task<long> SettledUpdatesAsync(long atLeast)
    {
        // Each read is a transaction of its own, so it sees fresh statistics (no cached snapshot to clear).
        const string sql = "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'data_values'";
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await app.ScalarAsync<long>(sql) < atLeast && DateTime.UtcNow < deadline) await Task.Delay(100, TestContext.Current.CancellationToken);
        await Task.Delay(1200, TestContext.Current.CancellationToken);
        return await app.ScalarAsync<long>(sql);
    }

    [Fact]
    public async Task An_unchanged_push_does_not_grow_n_tup_upd_and_a_change_of_one_value_grows_it_by_one()
    {
        var indicator = await _kit.IndicatorAsync();
        var rows = Enumerable.Range(1, 500).Select(i => $"{indicator},460000,{1990 + i / 12:D4}-{i % 12 + 1:D2},{i}.25,备注{i}").ToList();
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows))), received: 500, inserted: 500);
        var before = await SettledUpdatesAsync(0);

        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows))), received: 500, unchanged: 500);
        rows[250] = rows[250].Replace(".25,", ".26,", StringComparison.Ordinal);
        ImportKit.Counts(await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv(rows))), received: 500, updated: 1, unchanged: 499);

        Assert.Equal(before + 1, await SettledUpdatesAsync(before + 1));
    }
}
