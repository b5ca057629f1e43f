using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Measures;

public sealed class MeasureRepository(Db db, Journal.Journal journal, Clock clock, Caller caller)
{
    public Task<Page<MeasureResponse>> ListAsync(MeasureListQuery query, CancellationToken ct)
        => db.PageAsync(ListSql, Db.KeysetArgs(Filters(query), query.After, query.EffectiveLimit + 1), query, (MeasureRow r) => (object)r.Id, r => r.ToResponse(), ct);

    /// <summary>Every measure the filters select, in id order, for an export (see <see cref="Db.ExportAsync{TRow, T}"/>).</summary>
    public IAsyncEnumerable<MeasureResponse> ExportAsync(MeasureListQuery query, CancellationToken ct)
        => db.ExportAsync(ListSql, Filters(query), query, (MeasureRow r) => r.ToResponse(), item => item.Id, ct);

    /// <summary>The list's filters, checked, with "today" taken once so that every page of an export derives from the same day.</summary>
    object Filters(MeasureListQuery query) => new
    {
        today = clock.Today,
        dueSoon = clock.DueSoonUntil,
        issue = query.Issue,
        round = query.Round,
        ownerUnit = query.OwnerUnit,
        state = QueryEnums.Checked<MeasureState>(query.State, "state"),
        dueBefore = query.DueBefore,
        dueAfter = query.DueAfter,
        overdue = query.Overdue,
        light = QueryEnums.Checked<TrafficLight>(query.TrafficLight, "trafficLight"),
        readable = caller.ReadableUnits,
    };

    /// <summary>
    /// Every measure of one issue, for the issue's detail, read from the results of <see cref="ForIssueSql"/> (parameters
    /// @issueId, @today, @dueSoon, @readable), which the issue's read sends in its own round trip.
    /// </summary>
    internal static async Task<IReadOnlyList<MeasureResponse>> ReadForIssueAsync(SqlMapper.GridReader results)
        => (await results.ReadAsync<MeasureRow>()).Select(r => r.ToResponse()).ToList();

    /// <summary>One measure with its progress entries and evidence, or null.</summary>
    public Task<(MeasureResponse Measure, int Version)?> FindAsync(long id, CancellationToken ct)
        => db.ReadAsync<(MeasureResponse, int)?>(async (connection, token) =>
        {
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(
                $"{ReadableFindSql};\n{ProgressSql};\n{EvidenceSql}", new { id, today = clock.Today, dueSoon = clock.DueSoonUntil, readable = caller.ReadableUnits }, cancellationToken: token));
            var row = await results.ReadSingleOrDefaultAsync<MeasureRow>();
            var progress = (await results.ReadAsync<ProgressEntryResponse>()).ToList();
            var evidence = (await results.ReadAsync<EvidenceResponse>()).ToList();
            return row is null ? null : (row.ToResponse() with { ProgressEntries = progress, Evidence = evidence }, row.Version);
        }, ct);

    public async Task<(MeasureResponse Measure, int Version)> CreateAsync(Tx tx, CreateMeasureRequest request, CancellationToken ct)
    {
        EnsureDatesConsistent(request);
        var issueState = await tx.QuerySingleOrDefaultAsync<string>("SELECT state FROM issues WHERE id = @issueId FOR SHARE", new { request.IssueId }, ct)
            ?? throw Problem.Unprocessable("issueId", $"No issue {request.IssueId} exists.");
        EnsureIssueOpen(issueState);
        await UnitScope.EnsureMayWriteAsync(tx, caller, request.OwnerUnit, "The new measure", ct);
        var id = await tx.QuerySingleAsync<long>(InsertSql, new
        {
            request.IssueId, request.Code, request.Title, request.Description, request.OwnerUnit, request.StartDate, request.DueDate, now = clock.UtcNow,
        }, ct);
        var created = await ReadInAsync(tx, id, ct);
        await journal.RecordAsync(tx, "measure", id, "create", null, created.ToResponse(), ct);
        return (created.ToResponse(), created.Version);
    }

    public Task<(MeasureResponse Measure, int Version)> UpdateAsync(long id, UpdateMeasureRequest request, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            EnsureDatesConsistent(request);
            var before = await LockAsync(tx, id, expectedVersion, token);
            if (request.OwnerUnit != before.OwnerUnitCode) await UnitScope.EnsureMayWriteAsync(tx, caller, request.OwnerUnit, $"The new owner of measure {id}", token);
            MeasureStates.EnsureAllowed(before.StateValue, request.State);
            if (request.State == MeasureState.Cancelled && string.IsNullOrWhiteSpace(request.CancelReason))
                throw Problem.Validation("cancelReason", "A cancelled measure needs a cancelReason.");
            await tx.ExecuteAsync(UpdateSql, new
            {
                id, request.Title, request.Description, request.OwnerUnit, request.StartDate, request.DueDate,
                state = EnumText.Format(request.State),
                cancelReason = request.State == MeasureState.Cancelled ? request.CancelReason : null,
                today = clock.Today, now = clock.UtcNow,
            }, token);
            return await JournalChangeAsync(tx, id, "update", before, token);
        }, ct);

    public async Task<(ProgressEntryResponse Entry, int Version)> AddProgressAsync(Tx tx, long id, AddProgressRequest request, int? expectedVersion, CancellationToken token)
        => (await AddProgressAsync(tx, [new ProgressLine(id, request)], expectedVersion, token))[0];

    /// <summary>
    /// Adds a progress entry to each measure of <paramref name="lines"/> (each measure once), in as many statements for
    /// fifty lines as for one: the measures are locked in one, checked here in the order of the lines, moved forward with
    /// their entries in one, read back in one and journalled in one. The first line refused refuses them all; a 403 names
    /// every measure outside the caller's units. <paramref name="expectedVersion"/> applies to a single line.
    /// </summary>
    public async Task<IReadOnlyList<(ProgressEntryResponse Entry, int Version)>> AddProgressAsync(Tx tx, IReadOnlyList<ProgressLine> lines, int? expectedVersion,
        CancellationToken ct)
    {
        if (lines.Count == 0) return [];
        var ids = lines.Select(l => l.MeasureId).ToArray();
        var before = (await tx.QueryAsync<MeasureRow>(LockManySql, new { ids, today = clock.Today, dueSoon = clock.DueSoonUntil }, ct)).ToDictionary(r => r.Id);
        foreach (var line in lines)
        {
            if (!before.TryGetValue(line.MeasureId, out var row)) throw Problem.NotFound("measure", line.MeasureId);
            if (expectedVersion is { } expected && row.Version != expected) throw Problem.PreconditionFailed();
        }
        await EnsureMayWriteAsync(tx, lines.Select(l => before[l.MeasureId]).ToList(), ct);
        foreach (var (id, request) in lines)
        {
            var measure = before[id];
            EnsureIssueOpen(measure.IssueState);
            if (measure.StateValue is MeasureState.Done or MeasureState.Cancelled)
                throw Problem.Conflict($"The measure is {measure.State}: reopen it (state in_progress or planned) before reporting progress.");
            if (request.ReportedOn > clock.Today) throw Problem.Validation("reportedOn", "reportedOn cannot be in the future.");
            if (request.Percent < measure.Progress)
                throw Problem.Unprocessable("percent", $"Progress only moves forward: the measure is at {measure.Progress:0.##}%.");
        }

        var entries = (await tx.QueryAsync<ProgressEntryResponse>(AddProgressSql, new
        {
            ids, reportedOn = lines.Select(l => l.Request.ReportedOn.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
            percents = lines.Select(l => l.Request.Percent).ToArray(), notes = lines.Select(l => l.Request.Note).ToArray(), by = caller.Name, now = clock.UtcNow,
        }, ct)).AsList();
        var after = (await tx.QueryAsync<MeasureRow>(FindManySql, new { ids, today = clock.Today, dueSoon = clock.DueSoonUntil }, ct)).ToDictionary(r => r.Id);
        await journal.RecordAllAsync(tx, "measure", "progress",
            lines.Select(l => ((object)l.MeasureId, (object?)before[l.MeasureId].ToResponse(), (object?)after[l.MeasureId].ToResponse())).ToList(), ct);
        return lines.Select((l, i) => (entries[i], after[l.MeasureId].Version)).ToList();
    }

    /// <summary>403 unless every measure of <paramref name="rows"/> is owned by one of the caller's units or one below; it names those that are not.</summary>
    async Task EnsureMayWriteAsync(Tx tx, IReadOnlyList<MeasureRow> rows, CancellationToken ct)
    {
        if (caller.Units is not { } allowed) return;
        if (rows.Count == 1)
        {
            await UnitScope.EnsureMayWriteAsync(tx, caller, rows[0].OwnerUnitCode, $"Measure {rows[0].Id}", ct);
            return;
        }
        var outside = (await UnitScope.OutsideAsync(tx, caller, rows.Select(r => r.OwnerUnitCode), ct)).ToHashSet(StringComparer.Ordinal);
        var refused = rows.Where(r => outside.Contains(r.OwnerUnitCode)).Select(r => $"measure {r.Id} (unit '{r.OwnerUnitCode}')").ToList();
        if (refused.Count > 0)
            throw Problem.Forbidden($"These measures belong to units outside the units this client may write for ({string.Join(", ", allowed)}): {string.Join(", ", refused.Take(20))}.");
    }

    public async Task<EvidenceResponse> AddEvidenceAsync(Tx tx, long id, AddEvidenceRequest request, CancellationToken ct)
    {
        var measure = await LockAsync(tx, id, expectedVersion: null, ct);
        var evidence = await tx.QuerySingleAsync<EvidenceResponse>(InsertEvidenceSql, new
        {
            id, request.Title, request.DocumentNumber, request.IssuedOn, request.Url, by = caller.Name, now = clock.UtcNow,
        }, ct);
        // GET of the measure lists its evidence: a new item is a new representation, so the version (ETag) moves on.
        await tx.ExecuteAsync(TouchSql, new { id, now = clock.UtcNow }, ct);
        await journal.RecordAsync(tx, "measure", measure.Id, "evidence", null, evidence, ct);
        return evidence;
    }

    /// <summary>Locks the measure, checks the version, and refuses changes under a closed (signed-off) issue.</summary>
    async Task<MeasureRow> LockAsync(Tx tx, long id, int? expectedVersion, CancellationToken ct)
    {
        var row = await Versioned.LockAsync<MeasureRow>(tx, LockSql, new { id, today = clock.Today, dueSoon = clock.DueSoonUntil }, expectedVersion, "measure", id, ct);
        await UnitScope.EnsureMayWriteAsync(tx, caller, row.OwnerUnitCode, $"Measure {id}", ct);
        EnsureIssueOpen(row.IssueState);
        return row;
    }

    async Task<(MeasureResponse Measure, int Version)> JournalChangeAsync(Tx tx, long id, string action, MeasureRow before, CancellationToken ct)
    {
        var after = await ReadInAsync(tx, id, ct);
        await journal.RecordAsync(tx, "measure", id, action, before.ToResponse(), after.ToResponse(), ct);
        return (after.ToResponse(), after.Version);
    }

    /// <summary>
    /// The rule the database checks too (measures_due_after_start), tested here so that the caller gets a 400 naming
    /// dueDate, like every other field rule, rather than a 422 from the constraint.
    /// </summary>
    static void EnsureDatesConsistent(MeasureFields fields)
    {
        if (fields.StartDate is { } start && fields.DueDate < start)
            throw Problem.Validation("dueDate", "dueDate must not be before startDate.");
    }

    static void EnsureIssueOpen(string issueState)
    {
        if (issueState == "closed")
            throw Problem.Conflict("The issue has been signed off (closed): its measures can no longer change.");
    }

    Task<MeasureRow> ReadInAsync(Tx tx, long id, CancellationToken ct)
        => tx.QuerySingleAsync<MeasureRow>(FindSql, new { id, today = clock.Today, dueSoon = clock.DueSoonUntil }, ct);

    // Overdue and the traffic light are derived from "today" in the configured time zone at read time.
    const string Select = $"""
        SELECT m.id, m.issue_id, i.state AS issue_state, r.code AS round_code, m.code, m.title, m.description, m.owner_unit_code,
               m.state, m.progress, m.start_date, m.due_date, m.completed_on, m.cancel_reason, m.version, m.created_at, m.updated_at,
               {MeasureStates.DerivedColumns}
        FROM measures m
        JOIN issues i ON i.id = m.issue_id
        JOIN rounds r ON r.id = i.round_id
        """;

    const string ListSql = $"""
        SELECT * FROM ({Select}
            WHERE (@issue::bigint IS NULL OR m.issue_id = @issue)
              AND (@round::text IS NULL OR r.code = @round)
              AND (@ownerUnit::text IS NULL OR m.owner_unit_code = @ownerUnit)
              AND (@state::text IS NULL OR m.state = @state)
              AND (@dueBefore::date IS NULL OR m.due_date <= @dueBefore)
              AND (@dueAfter::date IS NULL OR m.due_date >= @dueAfter)
              AND {Readable}
              AND m.id > @after) AS measure
        WHERE (@overdue::boolean IS NULL OR overdue = @overdue)
          AND (@light::text IS NULL OR traffic_light = @light)
        ORDER BY id
        LIMIT @limit
        """;

    // A client whose reads are limited to its units sees only the measures they own (see Caller.ReadableUnits).
    const string Readable = "(@readable::text[] IS NULL OR m.owner_unit_code IN (SELECT units_under(@readable)))";

    const string FindSql = $"{Select} WHERE m.id = @id";
    const string ReadableFindSql = $"{Select} WHERE m.id = @id AND {Readable}";
    internal const string ForIssueSql = $"{Select} WHERE m.issue_id = @issueId AND {Readable} ORDER BY m.id";
    const string LockSql = $"{Select} WHERE m.id = @id FOR UPDATE OF m";
    const string FindManySql = $"{Select} WHERE m.id = ANY (@ids)";
    const string LockManySql = $"{Select} WHERE m.id = ANY (@ids) ORDER BY m.id FOR UPDATE OF m";

    const string ProgressSql = """
        SELECT id, measure_id, reported_on, percent, note, recorded_by, recorded_at
        FROM measure_progress WHERE measure_id = @id ORDER BY id
        """;

    const string EvidenceSql = """
        SELECT id, measure_id, title, document_number, issued_on, url, recorded_by, recorded_at
        FROM measure_evidence WHERE measure_id = @id ORDER BY id
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

    const string InsertEvidenceSql = """
        INSERT INTO measure_evidence (measure_id, title, document_number, issued_on, url, recorded_by, recorded_at)
        VALUES (@id, @title, @documentNumber, @issuedOn, @url, @by, @now)
        RETURNING id, measure_id, title, document_number, issued_on, url, recorded_by, recorded_at
        """;
}
