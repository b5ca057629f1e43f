using System.Data;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Rectify.Api.Features.DataValues;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Snapshots;

/// <summary>
/// Snapshots: pushed and drafted into a draft revision, published (frozen, and the values it shows locked),
/// corrected as new revisions. Every write of one round's month is serialised by a transaction lock on that month.
/// </summary>
public sealed class SnapshotRepository(Db db, SnapshotBuilder builder, MeasureUseCases measures, Journal.Journal journal, Clock clock, Caller caller,
    IOptions<ImportOptions> importOptions, IOptions<JsonOptions> json)
{
    public const string MonthEndJob = "month-end-job";

    public Task<SnapshotList?> ListAsync(string round, CancellationToken ct)
        => db.ReadAsync<SnapshotList?>(async (connection, token) =>
        {
            if (await SnapshotBuilder.FindRoundAsync(connection, null, round, token) is not { } found) return null;
            var items = await connection.QueryAsync<SnapshotListItem>(new CommandDefinition(ListSql, new { roundId = found.Id }, cancellationToken: token));
            return new SnapshotList(found.Code, items.ToList());
        }, ct);

    /// <summary>One revision (the latest when <paramref name="revision"/> is null), with its version for the ETag; null when absent.</summary>
    public Task<(SnapshotResponse Snapshot, int Version)?> FindAsync(string round, Period month, int? revision, bool publishedOnly, CancellationToken ct)
        => db.ReadAsync<(SnapshotResponse, int)?>(async (connection, token) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<SnapshotRow>(new CommandDefinition(FindSql,
                new { round, period = month.ToString(), revision, publishedOnly }, cancellationToken: token));
            return row is null ? null : (row.ToResponse(json.Value.SerializerOptions), row.Version);
        }, ct);

    /// <summary>The state of the round for the month read from live data now, without storing it (a preview).</summary>
    public Task<SnapshotContent> PreviewAsync(string round, Period month, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
        {
            var found = await SnapshotBuilder.FindRoundAsync(connection, null, round, token) ?? throw Refuse.NotFound("round", round);
            return await builder.BuildAsync(connection, null, found, month, token);
        }, ct);

    /// <summary>
    /// Completion rate of each month's latest revision (latest published one when <paramref name="publishedOnly"/>),
    /// the last <paramref name="months"/> months up to <paramref name="until"/> (every month when null), oldest first.
    /// </summary>
    public Task<IReadOnlyList<(string Period, decimal? CompletionRate, SnapshotStatus Status)>> CompletionTrendAsync(string round, Period? until,
        bool publishedOnly, int months, CancellationToken ct)
        => db.ReadAsync<IReadOnlyList<(string, decimal?, SnapshotStatus)>>(async (connection, token) =>
            (await connection.QueryAsync<(string Period, int Revision, string Status, decimal? Rate)>(new CommandDefinition(TrendSql,
                new { round, until = until?.ToString(), publishedOnly, trendPeriods = months }, cancellationToken: token)))
            .Select(r => (r.Period, r.Rate, EnumText.Parse<SnapshotStatus>(r.Status))).ToList(), ct);

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
        var hash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new { round, period = month.ToString(), request }, json.Value.SerializerOptions));
        // A bulk unit, retried within the bulk budget: a retry after a broken COMMIT finds the push applied (same hash) and changes nothing.
        return db.BulkWriteAsync(async (tx, token) =>
        {
            var found = await LockMonthAsync(tx, round, month, token);
            var latest = await tx.QuerySingleOrDefaultAsync<SnapshotRow>(LatestForUpdateSql, new { roundId = found.Id, period = month.ToString() }, token);
            if (latest?.PushHash is { } previous && CryptographicOperations.FixedTimeEquals(previous, hash))
                return (Unchanged(latest, request), latest.Version);

            var revising = latest?.Status == "published";
            if (revising && string.IsNullOrWhiteSpace(request.RevisionReason))
                throw Refuse.Conflict($"The snapshot of {month} is published (revision {latest!.Revision}). To correct it, send revisionReason: the push then makes revision {latest.Revision + 1} as a draft.");

            var progress = await ApplyProgressAsync(tx, found, month, request.Progress ?? [], token);
            // Values may be locked by this round's publication or another's (ValueLocks): a reason lets them be revised.
            var values = await ApplyValuesAsync(tx, month, request.Values ?? [], !string.IsNullOrWhiteSpace(request.RevisionReason) || latest?.Revision > 1, token);
            var content = await builder.BuildAsync(tx.Connection, tx.Transaction, found, month, token);
            var args = new
            {
                roundId = found.Id, period = month.ToString(), narrative = request.Narrative, content = Serialize(content), hash,
                reason = revising || latest?.Revision > 1 ? request.RevisionReason ?? latest?.Reason : null, by = caller.Name, now = clock.UtcNow,
            };
            // A draft is rewritten only where it differs (UpdateDraftSql answers no row otherwise).
            var written = latest is { Status: "draft" }
                ? await tx.QuerySingleOrDefaultAsync<SnapshotRow>(UpdateDraftSql, new { args.content, args.narrative, args.hash, args.reason, args.by, args.now, id = latest.Id }, token)
                : await tx.QuerySingleAsync<SnapshotRow>(InsertSql, new { args.roundId, args.period, revision = (latest?.Revision ?? 0) + 1, origin = "pushed", args.narrative, args.content, args.hash, args.reason, args.by, args.now }, token);
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
                Snapshot = row.ToResponse(json.Value.SerializerOptions),
            };
            return (answer, row.Version);
        }, ct);
    }

    /// <summary>Freezes the latest draft of the month; the values it shows are locked from then on (see ValueLocks).</summary>
    public Task<(SnapshotResponse Snapshot, int Version)> PublishAsync(string round, Period month, Func<string, bool>? ifMatch, PublishSnapshotRequest request, CancellationToken ct)
        => db.WriteAsync(async (tx, token) => await PublishLatestAsync(tx, await LockMonthAsync(tx, round, month, token), month, ifMatch, request.Note, token), ct);

    internal async Task<(SnapshotResponse Snapshot, int Version)> PublishLatestAsync(Tx tx, SnapshotBuilder.RoundRef round, Period month, Func<string, bool>? ifMatch,
        string? note, CancellationToken ct)
    {
        var latest = await tx.QuerySingleOrDefaultAsync<SnapshotRow>(LatestForUpdateSql, new { roundId = round.Id, period = month.ToString() }, ct)
            ?? throw Refuse.NotFound("snapshot", $"{round.Code}/{month}");
        if (latest.Status == "published")
            throw Refuse.Conflict($"Revision {latest.Revision} of {month} is already published. A correction is pushed with revisionReason and published as the next revision.");
        if (ifMatch is not null && !ifMatch(Tag(latest.Revision, latest.Version))) throw Refuse.Stale();
        if (month.LastDay >= clock.Today)
            throw Refuse.Conflict($"{month} is not over yet (today is {clock.Today:yyyy-MM-dd}): a month is published after its end.");
        var previous = month.Previous().ToString();
        var order = await tx.QuerySingleAsync<(bool EarlierExists, bool PreviousPublished)>(OrderSql, new { roundId = round.Id, period = month.ToString(), previous }, ct);
        if (order.EarlierExists && !order.PreviousPublished)
            throw Refuse.Conflict($"Publish {previous} first: months are published in order, and {previous} has no published snapshot.");

        var row = await tx.QuerySingleAsync<SnapshotRow>(PublishSql, new { id = latest.Id, by = caller.Name, now = clock.UtcNow }, ct);
        await journal.RecordAsync(tx, "snapshot", $"{round.Code}/{month}", "publish", null, new { row.Revision, note }, ct);
        return (row.ToResponse(json.Value.SerializerOptions), row.Version);
    }

    /// <summary>
    /// The month-end job's draft: the month's state from live data, only where the round has no snapshot of that
    /// month yet. Returns whether it drafted one.
    /// </summary>
    public async Task<bool> DraftIfMissingAsync(Tx tx, SnapshotBuilder.RoundRef round, Period month, CancellationToken ct, string by = MonthEndJob, string? narrative = null)
    {
        await tx.ExecuteAsync(MonthLockSql, new { roundId = round.Id, period = month.ToString() }, ct);
        if (await tx.QuerySingleAsync<bool>("SELECT EXISTS (SELECT 1 FROM snapshots WHERE round_id = @roundId AND period = @period)",
                new { roundId = round.Id, period = month.ToString() }, ct))
            return false;
        var content = await builder.BuildAsync(tx.Connection, tx.Transaction, round, month, ct);
        await tx.QuerySingleAsync<SnapshotRow>(InsertSql, new
        {
            roundId = round.Id, period = month.ToString(), revision = 1, origin = "drafted", narrative, content = Serialize(content),
            hash = (byte[]?)null, reason = (string?)null, by, now = clock.UtcNow,
        }, ct);
        await journal.RecordAsync(tx, "snapshot", $"{round.Code}/{month}", "draft", null, new { revision = 1 }, ct);
        return true;
    }

    async Task<SnapshotBuilder.RoundRef> LockMonthAsync(Tx tx, string round, Period month, CancellationToken ct)
    {
        var found = await SnapshotBuilder.FindRoundAsync(tx.Connection, tx.Transaction, round, ct) ?? throw Refuse.NotFound("round", round);
        await tx.ExecuteAsync(MonthLockSql, new { roundId = found.Id, period = month.ToString() }, ct);
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
        Snapshot = row.ToResponse(json.Value.SerializerOptions),
    };

    async Task<(int Applied, int Unchanged)> ApplyProgressAsync(Tx tx, SnapshotBuilder.RoundRef round, Period month, IReadOnlyList<SnapshotProgressUpdate> updates, CancellationToken ct)
    {
        if (updates.Count == 0) return (0, 0);
        var duplicate = updates.Select((u, i) => (u.MeasureId, i)).GroupBy(u => u.MeasureId).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw Refuse.Invalid($"progress[{duplicate.Last().i}].measureId", $"Measure {duplicate.Key} appears more than once in this push.");
        var current = (await tx.QueryAsync<(long Id, long RoundId, decimal Progress, string State, string? LatestNote, DateOnly? LastReportedOn)>(MeasuresSql,
            new { ids = updates.Select(u => u.MeasureId).ToArray() }, ct)).ToDictionary(m => m.Id);
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
            if (!IsUnchanged(update, measure.Progress, measure.State, measure.LatestNote, measure.LastReportedOn))
                apply.Add(new ProgressLine(update.MeasureId, new AddProgressRequest { ReportedOn = reportedOn, Percent = update.Percent, Note = update.Note }));
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
    static bool IsUnchanged(SnapshotProgressUpdate update, decimal progress, string state, string? latestNote, DateOnly? lastReportedOn)
        => update.Percent == progress
           && (update.Note is null || update.Note == latestNote)
           && (update.ReportedOn is not { } day || day <= lastReportedOn || state is "done" or "cancelled");

    async Task<(int Inserted, int Updated, int Unchanged)> ApplyValuesAsync(Tx tx, Period month, IReadOnlyList<SnapshotValue> values, bool revising, CancellationToken ct)
    {
        if (values.Count == 0) return (0, 0, 0);
        var catalogue = await ImportCatalogue.LoadAsync(tx, caller, ct);
        var rows = new List<StagedRow>(values.Count);
        var errors = new Dictionary<string, string[]>();
        var outside = new List<string>();
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            if (!catalogue.MayWrite(value.Unit.Trim())) outside.Add($"values[{i}] ({value.Unit})");
            var (row, error) = catalogue.Check(new RawRow(i, value.Indicator, value.Unit, value.Period ?? month.ToString(),
                value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), value.Comment), ImportStrategy.Upsert);
            if (error is not null) errors[$"values[{i}].{error.Field}"] = [error.Message];
            else if (!HoldsMonth(row.Period, month)) errors[$"values[{i}].period"] = [$"{row.Period} does not hold {month}: a snapshot push carries values of its month (or its quarter or year)."];
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
                $"{locked[0].Message} See errors for every locked value.", errors: locked.ToDictionary(l => $"values[{l.RowNo}].period", l => new[] { l.Message }));
        var counts = await DataValueMerge.ApplyAsync(tx, ImportStrategy.Upsert, rows.Count, caller.Name, clock.UtcNow, ct);
        return ((int)counts.Inserted, (int)counts.Updated, (int)counts.Unchanged);
    }

    static bool HoldsMonth(string period, Period month)
        => Period.TryParse(period) is { } p && month.Containing(p.Frequency) == p;

    /// <summary>The ETag of a revision: its number and version. A draft's moves with every change, a published revision's never again.</summary>
    public static string Tag(int revision, int version) => $"\"{revision}.{version}\"";

    string Serialize(SnapshotContent content) => JsonSerializer.Serialize(content, json.Value.SerializerOptions);

    /// <summary>Serialises every write of one round's month: two pushes, or a push and a publish, never interleave.</summary>
    const string MonthLockSql = "SELECT pg_advisory_xact_lock(1397641300, hashtext(@roundId::text || '/' || @period))";

    const string Columns = """
        s.id, r.code AS round, s.period, s.revision, s.status, s.origin, s.narrative, s.reason, s.content::text AS content, s.push_hash,
        s.created_by, s.created_at, s.updated_by, s.updated_at, s.published_by, s.published_at, s.version
        """;

    const string FindSql = $"""
        SELECT {Columns}
        FROM snapshots s JOIN rounds r ON r.id = s.round_id
        WHERE r.code = @round AND s.period = @period
          AND (@revision::int IS NULL OR s.revision = @revision)
          AND (NOT @publishedOnly OR s.status = 'published')
        ORDER BY s.revision DESC
        LIMIT 1
        """;

    const string LatestForUpdateSql = $"""
        SELECT {Columns}
        FROM snapshots s JOIN rounds r ON r.id = s.round_id
        WHERE s.round_id = @roundId AND s.period = @period
        ORDER BY s.revision DESC
        LIMIT 1
        FOR UPDATE OF s
        """;

    const string InsertSql = $"""
        WITH inserted AS (
            INSERT INTO snapshots (round_id, period, revision, status, origin, narrative, content, push_hash, reason,
                                   created_by, created_at, updated_by, updated_at)
            VALUES (@roundId, @period, @revision, 'draft', @origin, @narrative, @content::jsonb, @hash, @reason, @by, @now, @by, @now)
            RETURNING *
        )
        SELECT {Columns} FROM inserted s JOIN rounds r ON r.id = s.round_id
        """;

    const string UpdateDraftSql = $"""
        WITH updated AS (
            UPDATE snapshots
            SET content = @content::jsonb, narrative = @narrative, push_hash = @hash, reason = @reason, origin = 'pushed',
                updated_by = @by, updated_at = @now, version = version + 1
            WHERE id = @id
              AND (content - 'takenAt', narrative, reason, origin) IS DISTINCT FROM (@content::jsonb - 'takenAt', @narrative, @reason, 'pushed')
            RETURNING *
        )
        SELECT {Columns} FROM updated s JOIN rounds r ON r.id = s.round_id
        """;

    const string PublishSql = $"""
        WITH updated AS (
            UPDATE snapshots
            SET status = 'published', published_by = @by, published_at = @now, version = version + 1
            WHERE id = @id
            RETURNING *
        )
        SELECT {Columns} FROM updated s JOIN rounds r ON r.id = s.round_id
        """;

    const string OrderSql = """
        SELECT EXISTS (SELECT 1 FROM snapshots WHERE round_id = @roundId AND period < @period) AS earlier_exists,
               EXISTS (SELECT 1 FROM snapshots WHERE round_id = @roundId AND period = @previous AND status = 'published') AS previous_published
        """;

    const string ListSql = """
        SELECT DISTINCT ON (s.period)
               s.period, s.revision, s.status, s.origin, s.updated_at,
               p.revision AS published_revision, p.published_at,
               (s.content -> 'summary' ->> 'completionRate')::numeric AS completion_rate
        FROM snapshots s
        LEFT JOIN LATERAL (
            SELECT revision, published_at FROM snapshots p
            WHERE p.round_id = s.round_id AND p.period = s.period AND p.status = 'published'
            ORDER BY revision DESC LIMIT 1
        ) p ON true
        WHERE s.round_id = @roundId
        ORDER BY s.period DESC, s.revision DESC
        """;

    /// <summary>
    /// The completion-rate trend of <c>@round</c> (see <see cref="CompletionTrendAsync"/>; the dashboard runs it in its
    /// batch): the newest <c>@trendPeriods</c> months up to <c>@until</c>, each at its latest revision (latest published
    /// revision with <c>@publishedOnly</c>), oldest first.
    /// </summary>
    internal const string TrendSql = """
        SELECT period, revision, status, completion_rate
        FROM (
            SELECT DISTINCT ON (s.period) s.period, s.revision, s.status,
                   CASE WHEN jsonb_typeof(s.content -> 'summary' -> 'completionRate') = 'number'
                        THEN (s.content -> 'summary' ->> 'completionRate')::numeric END AS completion_rate
            FROM snapshots s JOIN rounds r ON r.id = s.round_id
            WHERE r.code = @round AND (@until::text IS NULL OR s.period <= @until) AND (NOT @publishedOnly OR s.status = 'published')
            ORDER BY s.period DESC, s.revision DESC
            LIMIT @trendPeriods
        ) latest
        ORDER BY period
        """;

    const string MeasuresSql = """
        SELECT m.id, i.round_id, m.progress, m.state,
               (SELECT mp.note FROM measure_progress mp WHERE mp.measure_id = m.id ORDER BY mp.id DESC LIMIT 1) AS latest_note,
               (SELECT max(mp.reported_on) FROM measure_progress mp WHERE mp.measure_id = m.id) AS last_reported_on
        FROM measures m JOIN issues i ON i.id = m.issue_id
        WHERE m.id = ANY (@ids)
        """;

    sealed class SnapshotRow
    {
        public long Id { get; init; }
        public string Round { get; init; } = "";
        public string Period { get; init; } = "";
        public int Revision { get; init; }
        public string Status { get; init; } = "";
        public string Origin { get; init; } = "";
        public string? Narrative { get; init; }
        public string? Reason { get; init; }
        public string Content { get; init; } = "";
        public byte[]? PushHash { get; init; }
        public string CreatedBy { get; init; } = "";
        public DateTime CreatedAt { get; init; }
        public string UpdatedBy { get; init; } = "";
        public DateTime UpdatedAt { get; init; }
        public string? PublishedBy { get; init; }
        public DateTime? PublishedAt { get; init; }
        public int Version { get; init; }

        public SnapshotResponse ToResponse(JsonSerializerOptions options) => new()
        {
            Round = Round, Period = Period, Revision = Revision, Status = EnumText.Parse<SnapshotStatus>(Status), Origin = EnumText.Parse<SnapshotOrigin>(Origin),
            Narrative = Narrative, Reason = Reason, CreatedBy = CreatedBy, CreatedAt = CreatedAt, UpdatedBy = UpdatedBy, UpdatedAt = UpdatedAt,
            PublishedBy = PublishedBy, PublishedAt = PublishedAt,
            Content = JsonSerializer.Deserialize<SnapshotContent>(Content, options) ?? throw new InvalidOperationException("A snapshot without content."),
        };
    }
}
