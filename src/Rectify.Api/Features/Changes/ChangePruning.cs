using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Changes;

/// <summary>
/// Prunes the change feed after the retention: entries superseded by a later entry of the same entity, and deletions
/// (of entities and of data values). The last entry of every existing entity stays, so a consumer that starts from the
/// beginning still ends with the current state; a cursor at or before the newest pruned entry gets 410. One node at a
/// time (an advisory lock); a run is one transaction.
/// </summary>
public sealed class ChangePruning(Db db, ChangeRepository changes, TimeProvider time, IOptions<ChangeFeedOptions> options,
    DatabaseReadiness readiness,
    ILogger<ChangePruning> logger) : BackgroundService
{
    /// <summary>Prunes what is older than the retention; the number of entries removed (0 when another node holds the lock).</summary>
    public Task<long> RunOnceAsync(CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            if (!await changes.TryLockPruningAsync(tx, token)) return 0L;
            return await changes.PruneAsync(tx, time.GetUtcNow().UtcDateTime - options.Value.Retention, token);
        }, ct, repeatable: true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Prune) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            var pause = options.Value.PruneInterval;
            try
            {
                if (!readiness.IsReady) pause = TimeSpan.FromSeconds(1); // migrations first
                else if (await RunOnceAsync(stoppingToken) is > 0 and var pruned) logger.LogInformation("Pruned {Count} change feed entries", pruned);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Pruning the change feed failed, will retry: {Message}", e.Message);
            }
            try
            {
                await Task.Delay(pause, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
