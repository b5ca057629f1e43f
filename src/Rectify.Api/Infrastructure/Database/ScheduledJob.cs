namespace Rectify.Api.Infrastructure.Database;

/// <summary>
/// A background job that every API node runs and one node does: each node looks every <see cref="CheckInterval"/> (once
/// the schema is current) whether the job is due, and the job takes its transaction-scoped advisory lock
/// (<see cref="TryLockAsync"/>) before it works, so that two nodes looking at once do it once. A failed check (the database
/// down or starting) is logged and tried again a minute later; the job's work is one transaction, so nothing is half done.
/// </summary>
public abstract class ScheduledJob(TimeProvider time, DatabaseReadiness readiness, ILogger logger) : BackgroundService
{
    /// <summary>What the log calls the job, e.g. "Month-end drafts".</summary>
    protected abstract string JobName { get; }

    protected ILogger Log => logger;

    /// <summary>Whether this node takes part at all.</summary>
    protected abstract bool Enabled { get; }

    protected abstract TimeSpan CheckInterval { get; }

    /// <summary>Does the job if it is due and not done yet (a node may remember what it did; the database decides).</summary>
    protected abstract Task CheckAsync(CancellationToken ct);

    /// <summary>The job's lock for the rest of <paramref name="tx"/>: true on the one node that holds it, false elsewhere (no waiting).</summary>
    public static Task<bool> TryLockAsync(Tx tx, long key, CancellationToken ct)
        => tx.QuerySingleAsync<bool>("SELECT pg_try_advisory_xact_lock(@key)", new { key }, ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            var pause = CheckInterval;
            try
            {
                if (!readiness.IsReady) pause = TimeSpan.FromSeconds(1); // migrations first
                else await CheckAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("{Job} failed, will retry: {Message}", JobName, e.Message);
                pause = TimeSpan.FromMinutes(1);
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
