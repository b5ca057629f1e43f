using Dapper;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Measures;

/// <summary>
/// The day a measure's derived values are taken on: overdue, the traffic light and the warning level read <see cref="Today"/>,
/// <see cref="DueSoon"/> (the last day on which an unfinished measure is only due soon) and <see cref="Notice"/> (the last
/// day of warning level notice).
/// </summary>
public readonly record struct MeasureDay(DateOnly Today, DateOnly DueSoon, DateOnly Notice)
{
    /// <summary>The clock's day, taken once.</summary>
    public static MeasureDay Of(Infrastructure.Clock clock) => new(clock.Today, clock.DueSoonUntil, clock.NoticeUntil);
}

/// <summary>
/// The SQL of measures, their progress entries and their evidence: one round trip per method, on the transaction
/// given (writes) or one pooled connection (reads). The rules are <see cref="MeasureUseCases"/>'.
/// </summary>
/// <remarks><c>readable</c> is the caller's readable units (<see cref="Infrastructure.Auth.Caller.ReadableUnits"/>), null for every unit.</remarks>
public sealed class MeasureRepository(Db db)
{
    public Task<Page<MeasureResponse>> ListAsync(MeasureListQuery query, MeasureDay day, string[]? readable, CancellationToken ct)
    {
        var (rows, derived) = Filters(query, day, readable);
        return db.PageAsync(ListSql(rows, derived), Db.KeysetArgs(rows.Args, query.After, query.EffectiveLimit + 1), query,
            (MeasureRow r) => (object)r.Id, r => r.ToResponse(), ct);
    }

    /// <summary>Every measure the filters select, in id order, for an export (see <see cref="Db.ExportAsync{TRow, T}"/>).</summary>
    public IAsyncEnumerable<MeasureResponse> ExportAsync(MeasureListQuery query, MeasureDay day, string[]? readable, CancellationToken ct)
    {
        var (rows, derived) = Filters(query, day, readable);
        return db.ExportAsync(ListSql(rows, derived), rows.Args, query, (MeasureRow r) => r.ToResponse(), item => item.Id, ct);
    }

    /// <summary>
    /// The list's filters, checked, with the day taken once so that every page of an export derives from the same day: those
    /// on the rows, and those on the derived values (one set of parameters).
    /// </summary>
    static (ListFilters Rows, ListFilters Derived) Filters(MeasureListQuery query, MeasureDay day, string[]? readable)
    {
        var rows = new ListFilters()
            .With("today", day.Today).With("dueSoon", day.DueSoon).With("notice", day.Notice)
            .Where("issue", query.Issue, "m.issue_id = @issue")
            .Where("round", query.Round, Issues.IssueRepository.RoundFilter)
            .Where("ownerUnit", query.OwnerUnit, "m.owner_unit_code = @ownerUnit")
            .Where("state", QueryEnums.Checked<MeasureState>(query.State, "state"), "m.state = @state")
            .Where("dueBefore", query.DueBefore, "m.due_date <= @dueBefore")
            .Where("dueAfter", query.DueAfter, "m.due_date >= @dueAfter")
            .Where("readable", readable, Readable)
            .Where("deferred", query.Deferred, "(m.deferral_count > 0) = @deferred");
        var derived = new ListFilters(rows.Args)
            .Where("overdue", query.Overdue, "overdue = @overdue")
            .Where("light", QueryEnums.Checked<TrafficLight>(query.TrafficLight, "trafficLight"), "traffic_light = @light")
            .Where("warning", QueryEnums.Checked<Warnings.WarningLevel>(query.Warning, "warning"), "warning_level = @warning");
        return (rows, derived);
    }

    /// <summary>
    /// Every measure of one issue, for the issue's detail, read from the results of <see cref="ForIssueSql"/> (parameters
    /// @issueId, @today, @dueSoon, @notice, @readable), which the issue's read sends in its own round trip.
    /// </summary>
    internal static async Task<IReadOnlyList<MeasureResponse>> ReadForIssueAsync(SqlMapper.GridReader results)
        => (await results.ReadAsync<MeasureRow>()).Select(r => r.ToResponse()).ToList();

    /// <summary>One measure with its progress entries and evidence, or null (also when <paramref name="readable"/> hides it).</summary>
    public Task<(MeasureResponse Measure, int Version)?> FindAsync(long id, MeasureDay day, string[]? readable, CancellationToken ct)
        => db.ReadAsync<(MeasureResponse, int)?>(async (connection, token) =>
        {
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(
                $"{ReadableFindSql};\n{ProgressSql};\n{EvidenceSql}",
                new { id, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice, readable }, cancellationToken: token));
            var row = await results.ReadSingleOrDefaultAsync<MeasureRow>();
            var progress = (await results.ReadAsync<ProgressEntryResponse>()).ToList();
            var evidence = (await results.ReadAsync<EvidenceResponse>()).ToList();
            return row is null ? null : (row.ToResponse() with { ProgressEntries = progress, Evidence = evidence }, row.Version);
        }, ct);

    /// <summary>
    /// The measures of the issue that keep it from being closed: neither done nor cancelled with a reason (the issue's
    /// sign-off checks them on its transaction).
    /// </summary>
    public async Task<IReadOnlyList<Issues.BlockingItem>> BlockingClosingAsync(Tx tx, long issueId, CancellationToken ct)
        => (await tx.QueryAsync<Issues.BlockingItem>(BlockingSql, new { issueId }, ct)).AsList();

    /// <summary>
    /// The state and closure of the issue a new measure goes under, locked against closing meanwhile; null when there is no
    /// such issue.
    /// </summary>
    internal Task<IssueStateRow?> LockIssueStateAsync(Tx tx, long issueId, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<IssueStateRow>(IssueStateSql, new { issueId }, ct);

    /// <summary>The done measures of the issue without an accepted evidence entry (they keep it from being signed off).</summary>
    public async Task<IReadOnlyList<Issues.BlockingItem>> WithoutAcceptedEvidenceAsync(Tx tx, long issueId, CancellationToken ct)
        => (await tx.QueryAsync<Issues.BlockingItem>(WithoutAcceptedEvidenceSql, new { issueId }, ct)).AsList();

    internal async Task<MeasureRow> InsertAsync(Tx tx, CreateMeasureRequest request, MeasureDay day, DateTime now, CancellationToken ct)
    {
        var id = await tx.QuerySingleAsync<long>(InsertSql, new
        {
            request.IssueId, request.Code, request.Title, request.Description, request.OwnerUnit, request.StartDate, request.DueDate, now,
        }, ct);
        return await ReadInAsync(tx, id, day, ct);
    }

    /// <summary>The measure, locked for change, or null.</summary>
    internal Task<MeasureRow?> LockAsync(Tx tx, long id, MeasureDay day, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<MeasureRow>(LockSql, new { id, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice }, ct);

    /// <summary>The measures of <paramref name="ids"/> that exist, locked for change in id order (no deadlock between batches), by id.</summary>
    internal async Task<Dictionary<long, MeasureRow>> LockManyAsync(Tx tx, long[] ids, MeasureDay day, CancellationToken ct)
        => (await tx.QueryAsync<MeasureRow>(LockManySql, new { ids, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice }, ct))
            .ToDictionary(r => r.Id);

    /// <summary>The measures of <paramref name="ids"/> as they are now in <paramref name="tx"/>, by id.</summary>
    internal async Task<Dictionary<long, MeasureRow>> ReadManyAsync(Tx tx, long[] ids, MeasureDay day, CancellationToken ct)
        => (await tx.QueryAsync<MeasureRow>(FindManySql, new { ids, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice }, ct))
            .ToDictionary(r => r.Id);

    internal Task<MeasureRow> ReadInAsync(Tx tx, long id, MeasureDay day, CancellationToken ct)
        => tx.QuerySingleAsync<MeasureRow>(FindSql, new { id, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice }, ct);

    /// <summary>Replaces the fields and state of the measure (a cancel reason only when cancelled) and reads it back.</summary>
    internal async Task<MeasureRow> UpdateAsync(Tx tx, long id, UpdateMeasureRequest request, MeasureDay day, DateTime now, CancellationToken ct)
    {
        await tx.ExecuteAsync(UpdateSql, new
        {
            id, request.Title, request.Description, request.OwnerUnit, request.StartDate, request.DueDate,
            state = Infrastructure.EnumText.Format(request.State),
            cancelReason = request.State == MeasureState.Cancelled ? request.CancelReason : null,
            today = day.Today, now,
        }, ct);
        return await ReadInAsync(tx, id, day, ct);
    }

    /// <summary>Each line's entry, and its measure moved forward, in one statement; the entries in the order of the lines.</summary>
    public async Task<List<ProgressEntryResponse>> AddProgressAsync(Tx tx, IReadOnlyList<ProgressLine> lines, string by, DateTime now,
        CancellationToken ct)
        => (await tx.QueryAsync<ProgressEntryResponse>(AddProgressSql, new
        {
            ids = lines.Select(l => l.MeasureId).ToArray(),
            reportedOn = lines.Select(l => l.Request.ReportedOn.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
            percents = lines.Select(l => l.Request.Percent).ToArray(), notes = lines.Select(l => l.Request.Note).ToArray(), by, now,
        }, ct)).AsList();

    /// <summary>
    /// Adds the evidence and moves the measure's version on: GET of the measure lists its evidence, so a new item is
    /// a new representation.
    /// </summary>
    public async Task<EvidenceResponse> AddEvidenceAsync(Tx tx, long id, AddEvidenceRequest request, string by, DateTime now, CancellationToken ct)
    {
        var evidence = await tx.QuerySingleAsync<EvidenceResponse>(InsertEvidenceSql, new
        {
            id, request.Title, request.DocumentNumber, request.IssuedOn, request.Url, by, now,
        }, ct);
        await tx.ExecuteAsync(TouchSql, new { id, now }, ct);
        return evidence;
    }

    // Overdue and the traffic light are derived from "today" in the configured time zone at read time.
    const string Select = $"""
        SELECT m.id, m.issue_id, i.state AS issue_state, i.closed_on AS issue_closed_on, i.reviewer AS issue_reviewer, r.code AS round_code,
               m.code, m.title, m.description, m.owner_unit_code,
               m.state, m.progress, m.start_date, m.due_date, m.completed_on, m.cancel_reason, m.version, m.created_at, m.updated_at,
               {MeasureStates.DerivedColumns},
               coalesce(m.original_due_date, m.due_date) AS original_due_date, m.deferral_count
        FROM measures m
        JOIN issues i ON i.id = m.issue_id
        JOIN rounds r ON r.id = i.round_id
        """;

    static string ListSql(ListFilters rows, ListFilters derived) => $"""
        SELECT * FROM ({Select}
            WHERE {rows.Sql}
              AND m.id > @after) AS measure
        WHERE {derived.Sql}
        ORDER BY id
        LIMIT @limit
        """;

    // A client whose reads are limited to its units sees only the measures they own (see Caller.ReadableUnits).
    internal const string Readable = "(@readable::text[] IS NULL OR m.owner_unit_code IN (SELECT units_under(@readable)))";

    const string FindSql = $"{Select} WHERE m.id = @id";
    const string ReadableFindSql = $"{Select} WHERE m.id = @id AND {Readable}";
    internal const string ForIssueSql = $"{Select} WHERE m.issue_id = @issueId AND {Readable} ORDER BY m.id";
    const string LockSql = $"{Select} WHERE m.id = @id FOR UPDATE OF m";
    const string FindManySql = $"{Select} WHERE m.id = ANY (@ids)";
    const string LockManySql = $"{Select} WHERE m.id = ANY (@ids) ORDER BY m.id FOR UPDATE OF m";

    const string BlockingSql = """
        SELECT id, code, title, state FROM measures
        WHERE issue_id = @issueId AND NOT (state = 'done' OR (state = 'cancelled' AND cancel_reason IS NOT NULL))
        ORDER BY id
        """;

    const string IssueStateSql = "SELECT id, state, closed_on, reviewer FROM issues WHERE id = @issueId FOR SHARE";

    const string WithoutAcceptedEvidenceSql = """
        SELECT m.id, m.code, m.title, m.state FROM measures m
        WHERE m.issue_id = @issueId AND m.state = 'done'
          AND NOT EXISTS (SELECT 1 FROM measure_evidence e WHERE e.measure_id = m.id AND e.status = 'accepted')
        ORDER BY m.id
        """;

    const string ProgressSql = """
        SELECT id, measure_id, reported_on, percent, note, recorded_by, recorded_at
        FROM measure_progress WHERE measure_id = @id ORDER BY id
        """;

    /// <summary>An evidence entry's columns, as <see cref="EvidenceResponse"/> reads them.</summary>
    // The entry's file, if it has one: how many versions, and the latest's hash and review status (subqueries on the entry's
    // own row, so the columns serve SELECT and RETURNING alike).
    internal const string EvidenceColumns = """
        id, measure_id, title, document_number, issued_on, url, recorded_by, recorded_at, status, decided_by, decided_at, decision_comment,
        (SELECT count(*) FROM evidence_file_versions f WHERE f.evidence_id = measure_evidence.id)::int AS file_versions,
        (SELECT f.sha256 FROM evidence_file_versions f WHERE f.evidence_id = measure_evidence.id ORDER BY f.version DESC LIMIT 1)
            AS latest_file_sha256,
        (SELECT f.status FROM evidence_file_versions f WHERE f.evidence_id = measure_evidence.id ORDER BY f.version DESC LIMIT 1)
            AS latest_file_status
        """;

    const string EvidenceSql = $"""
        SELECT {EvidenceColumns} FROM measure_evidence WHERE measure_id = @id ORDER BY id
        """;

    const string InsertSql = """
        INSERT INTO measures (issue_id, code, title, description, owner_unit_code, state, progress, start_date, due_date, created_at, updated_at)
        VALUES (@issueId, @code, @title, @description, @ownerUnit, 'planned', 0, @startDate, @dueDate, @now, @now)
        RETURNING id
        """;

    const string UpdateSql = """
        UPDATE measures
        SET title = @title, description = @description, owner_unit_code = @ownerUnit, start_date = @startDate, due_date = @dueDate,
            state = @state, cancel_reason = @cancelReason,
            progress = CASE WHEN @state = 'done' THEN 100 ELSE progress END,
            completed_on = CASE WHEN @state = 'done' THEN coalesce(completed_on, @today) ELSE NULL END,
            version = version + 1, updated_at = @now
        WHERE id = @id
        """;

    // Each line's entry, and its measure moved forward: planned → in_progress once work starts, → done at 100%. The entries are
    // answered in the order of the lines.
    const string AddProgressSql = """
        WITH line AS (
            SELECT * FROM unnest(@ids::bigint[], @reportedOn::date[], @percents::numeric[], @notes::text[]) WITH ORDINALITY
                AS l(measure_id, reported_on, percent, note, ord)
        ),
        moved AS (
            UPDATE measures m
            SET progress = l.percent,
                state = CASE WHEN l.percent = 100 THEN 'done' WHEN l.percent > 0 AND m.state = 'planned' THEN 'in_progress' ELSE m.state END,
                completed_on = CASE WHEN l.percent = 100 THEN l.reported_on ELSE m.completed_on END,
                version = m.version + 1, updated_at = @now
            FROM line l
            WHERE m.id = l.measure_id
        ),
        entry AS (
            INSERT INTO measure_progress (measure_id, reported_on, percent, note, recorded_by, recorded_at)
            SELECT measure_id, reported_on, percent, note, @by, @now FROM line ORDER BY ord
            RETURNING id, measure_id, reported_on, percent, note, recorded_by, recorded_at
        )
        SELECT e.id, e.measure_id, e.reported_on, e.percent, e.note, e.recorded_by, e.recorded_at
        FROM entry e JOIN line l ON l.measure_id = e.measure_id
        ORDER BY l.ord
        """;

    const string TouchSql = "UPDATE measures SET version = version + 1, updated_at = @now WHERE id = @id";

    const string InsertEvidenceSql = $"""
        INSERT INTO measure_evidence (measure_id, title, document_number, issued_on, url, recorded_by, recorded_at)
        VALUES (@id, @title, @documentNumber, @issuedOn, @url, @by, @now)
        RETURNING {EvidenceColumns}
        """;
}

/// <summary>The state and closure of an issue, for the freeze (<see cref="Issues.IssueStates.EnsureOpen"/>).</summary>
sealed class IssueStateRow
{
    public long Id { get; init; }
    public string State { get; init; } = "";
    public DateOnly? ClosedOn { get; init; }
    public string? Reviewer { get; init; }

    public void EnsureOpen() => Issues.IssueStates.EnsureOpen(Id, State, ClosedOn, Reviewer);
}
