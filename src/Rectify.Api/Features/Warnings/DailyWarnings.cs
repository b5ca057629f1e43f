using Microsoft.Extensions.Options;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Warnings;

/// <summary>
/// The daily warnings job: once a day (after <see cref="WarningOptions.RunAfter"/> past midnight in the configured time
/// zone) it records every issue and measure whose warning level differs from the last one recorded for it, dated that day,
/// so that entering a level is a dated fact (listed per item, counted in snapshots and the report, sent as the webhook event
/// warning.level-changed). Several API nodes may run it: the advisory lock lets one work at a time and the day's row in
/// warning_runs lets one run a day, so each change is recorded once.
/// </summary>
public sealed class DailyWarnings(IServiceScopeFactory scopes, Clock clock, TimeProvider time, IOptions<WarningOptions> options,
    DatabaseReadiness readiness, ILogger<DailyWarnings> logger) : ScheduledJob(time, readiness, logger)
{
    const long JobLock = 0x5245_4354_4946_0015;
    DateOnly? _doneFor;

    /// <summary>Records the day's level changes if the day's run is due and not made yet; safe to call any number of times from any node.</summary>
    public async Task<WarningRun> RunOnceAsync(CancellationToken ct)
    {
        var day = MeasureDay.Of(clock);
        if (clock.UtcNow < clock.StartOfDayUtc(day.Today) + options.Value.RunAfter) return new WarningRun(day.Today, false, false, false, []);

        await using var scope = scopes.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<Db>();
        var warnings = scope.ServiceProvider.GetRequiredService<WarningRepository>();
        return await db.WriteAsync(async (tx, token) =>
        {
            if (!await TryLockAsync(tx, JobLock, token)) return new WarningRun(day.Today, true, true, false, []);
            if (!await warnings.ClaimDayAsync(tx, day.Today, clock.UtcNow, token)) return new WarningRun(day.Today, true, false, true, []);
            var changed = await warnings.ChangedAsync(tx, day, token);
            var escalation = options.Value.Escalation;
            var recorded = await warnings.RecordAsync(tx, changed.Select(item =>
            {
                if (item.LevelValue is not { } level) return (item, (EscalationTo?)null, (string?)null);
                var (to, target) = escalation.For(level, item.OwnerUnit, item.LeadUnit, item.ResponsibleLeader);
                return (item, to, target);
            }).ToList(), day.Today, clock.UtcNow, token);
            return new WarningRun(day.Today, true, false, false, recorded);
        }, ct, repeatable: true);
    }

    protected override string JobName => "Daily warnings";
    protected override bool Enabled => options.Value.DailyJob;
    protected override TimeSpan CheckInterval => options.Value.CheckInterval;

    protected override async Task CheckAsync(CancellationToken ct)
    {
        if (_doneFor == clock.Today) return;
        var run = await RunOnceAsync(ct);
        if (run.Due && !run.LockHeldElsewhere) _doneFor = run.Day;
        if (run.Recorded.Count > 0) Log.LogInformation("Warning levels changed on {Day}: {Count}", run.Day, run.Recorded.Count);
    }
}
