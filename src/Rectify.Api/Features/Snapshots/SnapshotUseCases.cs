using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Rectify.Api.Features.DataValues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;
using SnapshotRow = Rectify.Api.Features.Snapshots.SnapshotRepository.SnapshotRow;

namespace Rectify.Api.Features.Snapshots;

/// <summary>
/// Snapshots: pushed and drafted into a draft revision, published (frozen, and the values it shows locked),
/// corrected as new revisions. Every write of one round's month holds that month's lock for its transaction.
/// </summary>
public sealed class SnapshotUseCases(Db db, SnapshotRepository snapshots, MeasureUseCases measures, Journal.JournalWriter journal, Clock clock,
    Caller caller, IOptions<ImportOptions> importOptions, IOptions<JsonOptions> json)
{
    /// <summary>Every month of the round with a snapshot; the round's views mix every unit's rows.</summary>
    public async Task<SnapshotList> ListAsync(string round, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's snapshots");
        return await snapshots.ListAsync(round, ct) ?? throw Refuse.NotFound("round", round);
    }

    /// <summary>
    /// One revision (the latest when <paramref name="revision"/> is null) with its version for the ETag; a caller without
    /// a key (public read) sees published revisions only.
    /// </summary>
    public async Task<(SnapshotResponse Snapshot, int Version)> FindAsync(string round, Period month, int? revision, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's snapshot");
        return await snapshots.FindAsync(round, month, revision, publishedOnly: !caller.IsAuthenticated, ct)
            ?? throw Refuse.NotFound("snapshot", revision is { } r ? $"{round}/{month} revision {r}" : $"{round}/{month}");
    }

    /// <summary>The number, status and version of the revision <see cref="FindAsync"/> would return, without reading its content.</summary>
    public async Task<SnapshotRepository.StoredTag?> FindTagAsync(string round, Period month, int? revision, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's snapshot");
        return await snapshots.FindTagAsync(round, month, revision, publishedOnly: !caller.IsAuthenticated, ct);
    }

    /// <summary>What changed from the latest revision of <paramref name="from"/> to that of <paramref name="to"/>.</summary>
    public async Task<SnapshotDiff> DiffAsync(string round, Period to, Period from, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's snapshots");
        var older = await snapshots.FindAsync(round, from, null, publishedOnly: false, ct) ?? throw Refuse.NotFound("snapshot", $"{round}/{from}");
        var newer = await snapshots.FindAsync(round, to, null, publishedOnly: false, ct) ?? throw Refuse.NotFound("snapshot", $"{round}/{to}");
        return SnapshotDiffer.Compare(older.Snapshot, newer.Snapshot);
    }

    /// <summary>
    /// Applies a month-end push in one transaction — measure progress, indicator values, the state read back into
    /// the month's draft — or nothing. The answer says changed only when something changed: a progress entry added, a
    /// value inserted or updated, or the draft's content (apart from when it was read), narrative, reason or origin.
    /// A push that changes nothing leaves the draft, its ETag and the journal as they were; the same push again is
    /// recognised by its hash and counts every line unchanged.
    /// </summary>
    public Task<(PushSnapshotResponse Answer, int Version)> PushAsync(string round, Period month, PushSnapshotRequest request, CancellationToken ct)
    {
        EnsureMonthStarted(month);
        var hash = SHA256.HashData(
            JsonSerializer.SerializeToUtf8Bytes(new { round, period = month.ToString(), request }, json.Value.SerializerOptions));
        // A bulk unit, retried within the bulk budget: a retry after a broken COMMIT finds the push applied (same hash) and changes nothing.
        return db.BulkWriteAsync(async (tx, token) =>
        {
            var found = await LockMonthAsync(tx, round, month, token);
            var latest = await snapshots.LatestForUpdateAsync(tx, found.Id, month, token);
            if (latest?.PushHash is { } previous && CryptographicOperations.FixedTimeEquals(previous, hash))
                return (Unchanged(latest, request), latest.Version);

            var revising = latest?.Status == "published";
            if (revising && string.IsNullOrWhiteSpace(request.RevisionReason))
                throw Refuse.Conflict(new Text("The snapshot of {0} is published (revision {1}). To correct it, send revisionReason: "
                    + "the push then makes revision {2} as a draft.", month, latest!.Revision, latest.Revision + 1));

            var progress = await ApplyProgressAsync(tx, found, month, request.Progress ?? [], token);
            // Values may be locked by this round's publication or another's (ValueLocks): a reason lets them be revised.
            var mayRevise = !string.IsNullOrWhiteSpace(request.RevisionReason) || latest?.Revision > 1;
            var values = await ApplyValuesAsync(tx, month, request.Values ?? [], mayRevise, token);
            var draft = new SnapshotRepository.NewRevision(found.Id, month, (latest?.Revision ?? 0) + 1, "pushed", request.Narrative,
                await snapshots.BuildAsync(tx, found, month, token), hash,
                revising || latest?.Revision > 1 ? request.RevisionReason ?? latest?.Reason : null, caller.Name, clock.UtcNow);
            // A draft is rewritten only where it differs (no row otherwise).
            var written = latest is { Status: "draft" }
                ? await snapshots.UpdateDraftAsync(tx, latest.Id, draft, token)
                : await snapshots.InsertAsync(tx, draft, token);
            var row = written ?? latest!;
            var changed = written is not null || progress.Applied > 0 || values.Inserted + values.Updated > 0;
            if (changed)
                await journal.RecordAsync(tx, "snapshot", $"{found.Code}/{month}", latest is { Status: "draft" } ? "push" : "create", null, new
                {
                    row.Revision, progressApplied = progress.Applied, progressUnchanged = progress.Unchanged,
                    valuesInserted = values.Inserted, valuesUpdated = values.Updated, valuesUnchanged = values.Unchanged, request.RevisionReason,
                }, token);
            var answer = new PushSnapshotResponse
            {
                Changed = changed, ProgressApplied = progress.Applied, ProgressUnchanged = progress.Unchanged,
                ValuesInserted = values.Inserted, ValuesUpdated = values.Updated, ValuesUnchanged = values.Unchanged,
                Snapshot = snapshots.Represent(row),
            };
            return (answer, row.Version);
        }, ct);
    }

    /// <summary>
    /// Freezes the latest draft of the month; the values it shows are locked from then on (see ValueLocks).
    /// <paramref name="ifMatch"/>: whether the caller's If-Match names a tag (null when none was sent).
    /// </summary>
    public Task<(SnapshotResponse Snapshot, int Version)> PublishAsync(string round, Period month, Func<string, bool>? ifMatch,
        PublishSnapshotRequest request, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
            await PublishLatestAsync(tx, await LockMonthAsync(tx, round, month, token), month, ifMatch, request.Note, token), ct);

    /// <summary>Publishes the month's latest draft on the caller's transaction (which holds the month's lock).</summary>
    internal async Task<(SnapshotResponse Snapshot, int Version)> PublishLatestAsync(Tx tx, SnapshotBuilder.RoundRef round, Period month,
        Func<string, bool>? ifMatch, string? note, CancellationToken ct)
    {
        var latest = await snapshots.LatestForUpdateAsync(tx, round.Id, month, ct) ?? throw Refuse.NotFound("snapshot", $"{round.Code}/{month}");
        if (latest.Status == "published")
            throw Refuse.Conflict(new Text("Revision {0} of {1} is already published. "
                + "A correction is pushed with revisionReason and published as the next revision.", latest.Revision, month));
        if (ifMatch is not null && !ifMatch(SnapshotRepository.Tag(latest.Revision, latest.Version))) throw Refuse.Stale();
        if (month.LastDay >= clock.Today)
            throw Refuse.Conflict($"{month} is not over yet (today is {clock.Today:yyyy-MM-dd}): a month is published after its end.");
        var order = await snapshots.PublicationOrderAsync(tx, round.Id, month, ct);
        if (order.EarlierExists && !order.PreviousPublished)
            throw Refuse.Conflict(
                $"Publish {month.Previous()} first: months are published in order, and {month.Previous()} has no published snapshot.");

        var row = await snapshots.PublishAsync(tx, latest.Id, caller.Name, clock.UtcNow, ct);
        await journal.RecordAsync(tx, "snapshot", $"{round.Code}/{month}", "publish", null, new { row.Revision, note }, ct);
        return (snapshots.Represent(row), row.Version);
    }

    /// <summary>
    /// The month-end job's draft: the month's state from live data, only where the round has no snapshot of that
    /// month yet. Returns whether it drafted one.
    /// </summary>
    public async Task<bool> DraftIfMissingAsync(Tx tx, SnapshotBuilder.RoundRef round, Period month, CancellationToken ct,
        string by = SnapshotRepository.MonthEndJob, string? narrative = null)
    {
        await snapshots.LockMonthAsync(tx, round.Id, month, ct);
        if (await snapshots.ExistsAsync(tx, round.Id, month, ct)) return false;
        var content = await snapshots.BuildAsync(tx, round, month, ct);
        await snapshots.InsertAsync(tx,
            new SnapshotRepository.NewRevision(round.Id, month, 1, "drafted", narrative, content, null, null, by, clock.UtcNow), ct);
        await journal.RecordAsync(tx, "snapshot", $"{round.Code}/{month}", "draft", null, new { revision = 1 }, ct);
        return true;
    }

    async Task<SnapshotBuilder.RoundRef> LockMonthAsync(Tx tx, string round, Period month, CancellationToken ct)
    {
        var found = await snapshots.FindRoundAsync(tx, round, ct) ?? throw Refuse.NotFound("round", round);
        await snapshots.LockMonthAsync(tx, found.Id, month, ct);
        return found;
    }

    void EnsureMonthStarted(Period month)
    {
        var today = clock.Today;
        if (month > Period.MonthOf(today))
            throw Refuse.Invalid("period", $"{month} has not begun (today is {today:yyyy-MM-dd}).");
    }

    /// <summary>The answer to a push already applied: nothing changed, every line of it is counted unchanged.</summary>
    PushSnapshotResponse Unchanged(SnapshotRow row, PushSnapshotRequest request) => new()
    {
        Changed = false, ProgressApplied = 0, ProgressUnchanged = request.Progress?.Count ?? 0,
        ValuesInserted = 0, ValuesUpdated = 0, ValuesUnchanged = request.Values?.Count ?? 0,
        Snapshot = snapshots.Represent(row),
    };

    async Task<(int Applied, int Unchanged)> ApplyProgressAsync(Tx tx, SnapshotBuilder.RoundRef round, Period month,
        IReadOnlyList<SnapshotProgressUpdate> updates, CancellationToken ct)
    {
        if (updates.Count == 0) return (0, 0);
        var duplicate = updates.Select((u, i) => (u.MeasureId, i)).GroupBy(u => u.MeasureId).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw Refuse.Invalid($"progress[{duplicate.Last().i}].measureId", $"Measure {duplicate.Key} appears more than once in this push.");
        var current = await snapshots.MeasureStatesAsync(tx, updates.Select(u => u.MeasureId), ct);
        var lastDay = month.LastDay < clock.Today ? month.LastDay : clock.Today;

        var apply = new List<ProgressLine>(updates.Count);
        for (var i = 0; i < updates.Count; i++)
        {
            var update = updates[i];
            if (!current.TryGetValue(update.MeasureId, out var measure) || measure.RoundId != round.Id)
                throw Refuse.DoesNotFit($"progress[{i}].measureId", $"Measure {update.MeasureId} is not a measure of round {round.Code}.");
            var reportedOn = update.ReportedOn ?? lastDay;
            if (reportedOn > month.LastDay)
                throw Refuse.Invalid($"progress[{i}].reportedOn", $"Progress of {month} is reported on a day of {month} or before.");
            if (!IsUnchanged(update, measure))
                apply.Add(new ProgressLine(update.MeasureId,
                    new AddProgressRequest { ReportedOn = reportedOn, Percent = update.Percent, Note = update.Note }));
        }
        // Set-based: as many statements for fifty lines as for one.
        await measures.AddProgressAsync(tx, apply, null, ct);
        return (apply.Count, updates.Count - apply.Count);
    }

    /// <summary>
    /// Progress already reached, with nothing new to say, is not reported again, so that a push repeated with changes
    /// elsewhere does not add the same entry twice. A line is unchanged when the measure is already at its percent, its
    /// note is absent or the note of the measure's latest entry, and its reportedOn is absent or not after the latest
    /// date reported. A done or cancelled measure takes no entries: a line at its percent is unchanged whatever its date.
    /// </summary>
    static bool IsUnchanged(SnapshotProgressUpdate update, SnapshotRepository.MeasureProgressState measure)
        => update.Percent == measure.Progress
           && (update.Note is null || update.Note == measure.LatestNote)
           && (update.ReportedOn is not { } day || day <= measure.LastReportedOn || measure.State is "done" or "cancelled");

    async Task<(int Inserted, int Updated, int Unchanged)> ApplyValuesAsync(Tx tx, Period month, IReadOnlyList<SnapshotValue> values, bool revising,
        CancellationToken ct)
    {
        if (values.Count == 0) return (0, 0, 0);
        var catalogue = await ImportCatalogue.LoadAsync(tx, caller, ct);
        var rows = new List<StagedRow>(values.Count);
        var errors = new Dictionary<string, Text[]>(); // said in the caller's language
        var outside = new List<string>();
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            if (!catalogue.MayWrite(value.Unit.Trim())) outside.Add($"values[{i}] ({value.Unit})");
            var (row, error) = catalogue.Check(new RawRow(i, value.Indicator, value.Unit, value.Period ?? month.ToString(),
                value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), value.Comment), ImportStrategy.Upsert);
            if (error is not null) errors[$"values[{i}].{error.Field}"] = [error.Reason];
            else if (!HoldsMonth(row.Period, month))
                errors[$"values[{i}].period"] =
                    [$"{row.Period} does not hold {month}: a snapshot push carries values of its month (or its quarter or year)."];
            else rows.Add(row);
        }
        if (outside.Count > 0)
            throw new Refusal(RefusalKind.Forbidden, ProblemTypes.Forbidden, "Not allowed",
                $"These values are for units outside the units this client may write for: {string.Join(", ", outside.Take(20))}.");
        if (errors.Count > 0) throw Refuse.Invalid(errors);

        await DataValueMerge.AcquirePushLockAsync(tx, importOptions.Value.LockWait, ct);
        await DataValueMerge.StageAsync(tx, rows, rows.Count, ct);
        // Refuses values that a published snapshot locks (a 422 naming each value and the snapshot that holds it).
        if (!revising && await DataValueMerge.TakeLockedAsync(tx, catalogue.LockingMonths(), ct) is { Count: > 0 } locked)
            throw new Refusal(RefusalKind.DoesNotFit, ProblemTypes.Validation, "Values of a published snapshot are locked",
                $"{locked[0].Message} See errors for every locked value.", null,
                locked.ToDictionary(l => $"values[{l.RowNo}].period", l => new[] { l.Reason }));
        var counts = await DataValueMerge.ApplyAsync(tx, ImportStrategy.Upsert, rows.Count, caller.Name, clock.UtcNow, ct);
        return ((int)counts.Inserted, (int)counts.Updated, (int)counts.Unchanged);
    }

    static bool HoldsMonth(string period, Period month)
        => Period.TryParse(period) is { } p && month.Containing(p.Frequency) == p;
}
