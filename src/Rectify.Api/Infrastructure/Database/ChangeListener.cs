using Microsoft.Extensions.Options;
using Npgsql;

namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// Keeps one connection of this node listening on <see cref="ReadCache.Channel"/> and tells the <see cref="ReadCache"/>
/// of every change announced there (by any writer: other nodes, jobs, SQL by hand). While it is not connected, nothing
/// is cached; it reconnects every second, and checks an idle connection every
/// <see cref="ReadCacheOptions.ListenerCheckInterval"/> so that a connection lost without a word is noticed.
/// </summary>
public sealed class ChangeListener(ReadCache cache, DatabaseTopology topology, DatabaseReadiness readiness, IOptions<ReadCacheOptions> options,
    ILogger<ChangeListener> logger) : BackgroundService
{
    int _failures;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!cache.Enabled || topology.ListenerConnectionString is not { } connectionString) return;
        try
        {
            // The triggers that notify come with the migrations; nothing is read for callers before the node is ready.
            while (!readiness.IsReady) await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ListenAsync(connectionString, stoppingToken);
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                {
                    cache.Listening(false);
                    // The first loss is worth a warning; while the database stays away, one line per minute is enough.
                    if (_failures++ % 60 == 0) logger.LogWarning("The read cache's change listener lost its connection ({Error}); nothing is cached "
                        + "until it listens again.", e.Message);
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            cache.Listening(false);
        }
    }

    async Task ListenAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        connection.Notification += (_, _) => cache.Forget();
        await using (var listen = new NpgsqlCommand($"LISTEN {ReadCache.Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
        cache.Listening(true);
        _failures = 0;
        logger.LogInformation("The read cache listens for changes on {Channel}.", ReadCache.Channel);
        await using var check = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = 5 };
        while (true)
        {
            if (!await connection.WaitAsync(options.Value.ListenerCheckInterval, ct)) await check.ExecuteScalarAsync(ct);
        }
    }
}
