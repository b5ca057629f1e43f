using Dapper;
using Microsoft.Extensions.Options;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Snapshots;

public sealed class SnapshotOptions
{
    public const string Section = "Rectify:Snapshots";

    /// <summary>Whether this node takes part in drafting the month just ended (one node does it; see <see cref="MonthEndDrafts"/>).</summary>
    public bool MonthEndDrafts { get; set; } = true;

    /// <summary>How long after month end (midnight of the 1st in the configured time zone) the drafts are made.</summary>
    public TimeSpan DraftAfter { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How often a node looks whether the drafts are due (they are also made at start-up when overdue).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How long a node answers a revalidation of a month's latest snapshot (no <c>?revision</c>) from the published tag it
    /// served, without the database: a correction made through another node is seen at most this long afterwards (through
    /// this node, at once). Zero reads the database every time.
    /// </summary>
    public TimeSpan LatestTagLifetime { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>What one run of the month-end job did.</summary>
public sealed record MonthEndRun(string Period, bool Due, bool LockHeldElsewhere, IReadOnlyList<string> Drafted);

/// <summary>
/// The month-end job: some time after a month ends, every round under rectification that has no snapshot of that
/// month gets one drafted from live data (origin drafted), to be reviewed and published. Several API nodes may run
/// it: a PostgreSQL advisory lock lets one of them do the work, and a month that already has a snapshot is skipped,
/// so a second run, on this node or another, changes nothing.
/// </summary>
public sealed class MonthEndDrafts(IServiceScopeFactory scopes, Clock clock, TimeProvider time, IOptions<SnapshotOptions> options,
    DatabaseReadiness readiness, ILogger<MonthEndDrafts> logger) : ScheduledJob(time, readiness, logger)
{
    const long JobLock = 0x5245_4354_4946_0004;
    string? _doneFor;

    /// <summary>Drafts the month just ended if its time has come; safe to call any number of times from any node.</summary>
    public async Task<MonthEndRun> RunOnceAsync(CancellationToken ct)
    {
        var today = clock.Today;
        var month = Period.MonthOf(today).Previous();
        var due = clock.StartOfDayUtc(new DateOnly(today.Year, today.Month, 1)) + options.Value.DraftAfter;
        if (clock.UtcNow < due) return new MonthEndRun(month.ToString(), false, false, []);

        await using var scope = scopes.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<Db>();
        var snapshots = scope.ServiceProvider.GetRequiredService<SnapshotUseCases>();
        return await db.WriteAsync(async (tx, token) =>
        {
            if (!await TryLockAsync(tx, JobLock, token))
                return new MonthEndRun(month.ToString(), true, true, []);
            var drafted = new List<string>();
            foreach (var code in await tx.QueryAsync<string>(RoundsSql, new { monthEnd = month.LastDay }, token))
            {
                var round = await SnapshotBuilder.FindRoundAsync(tx.Connection, tx.Transaction, code, token);
                if (round is not null && await snapshots.DraftIfMissingAsync(tx, round, month, token)) drafted.Add(code);
            }
            return new MonthEndRun(month.ToString(), true, false, drafted);
        }, ct, repeatable: true);
    }

    protected override string JobName => "Month-end drafts";
    protected override bool Enabled => options.Value.MonthEndDrafts;
    protected override TimeSpan CheckInterval => options.Value.CheckInterval;
    protected override Task CheckAsync(CancellationToken ct) => DraftUnlessDoneAsync(ct);

    async Task DraftUnlessDoneAsync(CancellationToken ct)
    {
        var month = Period.MonthOf(clock.Today).Previous().ToString();
        if (_doneFor == month) return;
        var run = await RunOnceAsync(ct);
        if (run.Due) _doneFor = run.Period;
        if (run.Drafted.Count > 0) Log.LogInformation("Month-end drafts for {Period}: {Rounds}", run.Period, string.Join(", ", run.Drafted));
    }

    // Rounds under rectification whose feedback came before the month ended: the ones with a month to report.
    const string RoundsSql = """
        SELECT code FROM rounds
        WHERE state IN ('rectifying', 'consolidating') AND (feedback_date IS NULL OR feedback_date <= @monthEnd)
        ORDER BY code
        """;
}
