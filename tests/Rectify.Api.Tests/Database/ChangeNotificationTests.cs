using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Rectify.Api.Features.Changes;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Database;

/// <summary>
/// Every table that answers are read from announces its changes on the read cache's channel (migration 0021), once per
/// committed transaction and never for one rolled back; only the listed bookkeeping tables do not.
/// </summary>
public sealed class ChangeNotificationTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Bookkeeping no cached answer reads (migration 0021's list, and the deleted values' record since 0023).</summary>
    static readonly string[] NotAnnounced =
    [
        "api_keys", "change_feed_horizon", "changes", "clients", "data_value_deletions", "idempotency_keys", "journal", "schema_versions",
        "warning_runs", "webhook_deliveries", "webhook_events", "webhook_subscriptions",
    ];

    [Fact]
    public async Task Every_table_but_the_bookkeeping_announces_its_changes()
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync(Ct);
        var tables = (await connection.QueryAsync<(string Table, bool Announced)>(new CommandDefinition("""
            SELECT c.relname, EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'notify_change')
            FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY 1
            """, cancellationToken: Ct))).ToList();
        Assert.Contains(tables, t => t.Table == "measures");
        Assert.Empty(tables.Where(t => !t.Announced && !NotAnnounced.Contains(t.Table)).Select(t => t.Table));
        Assert.Empty(tables.Where(t => t.Announced && NotAnnounced.Contains(t.Table)).Select(t => t.Table));
    }

    [Fact]
    public async Task A_committed_transaction_announces_once_and_a_rolled_back_one_not_at_all()
    {
        await new Seed(app).UnitsAsync();
        await using var writer = new NpgsqlConnection(app.ConnectionString);
        await writer.OpenAsync(Ct);
        const string Rename = "UPDATE units SET name = @name WHERE code = '460105'";

        var heard = await HeardAsync(async () =>
        {
            await using (var rolledBack = await writer.BeginTransactionAsync(Ct))
            {
                await writer.ExecuteAsync(new CommandDefinition(Rename, new { name = "不算" }, rolledBack, cancellationToken: Ct));
                await rolledBack.RollbackAsync(Ct);
            }
            await using var committed = await writer.BeginTransactionAsync(Ct);
            await writer.ExecuteAsync(new CommandDefinition(Rename, new { name = "秀英区" }, committed, cancellationToken: Ct));
            await writer.ExecuteAsync(new CommandDefinition(Rename, new { name = "秀英区（改）" }, committed, cancellationToken: Ct));
            await committed.CommitAsync(Ct);
        });

        Assert.Equal(1, heard);
    }

    [Fact]
    public async Task Pruning_the_change_feed_announces_nothing()
    {
        // A statement trigger fires for a DELETE that removes nothing, so a run with nothing to prune would announce too.
        var heard = await HeardAsync(() => app.Services.GetRequiredService<ChangePruning>().RunOnceAsync(Ct));

        Assert.Equal(0, heard);
    }

    /// <summary>How many notifications on the read cache's channel arrived while and after <paramref name="act"/> ran.</summary>
    async Task<int> HeardAsync(Func<Task> act)
    {
        await using var listener = new NpgsqlConnection(app.ConnectionString);
        await listener.OpenAsync(Ct);
        var heard = 0;
        listener.Notification += (_, e) =>
        {
            if (e.Channel == ReadCache.Channel) Interlocked.Increment(ref heard);
        };
        await listener.ExecuteAsync(new CommandDefinition($"LISTEN {ReadCache.Channel}", cancellationToken: Ct));
        await act();
        // Everything announced arrives within milliseconds; half a second of silence ends the wait.
        while (await listener.WaitAsync(TimeSpan.FromMilliseconds(500), Ct))
        {
        }
        return heard;
    }
}
