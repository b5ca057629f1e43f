using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Issues;

public sealed class IssueRepository(Db db, Journal.Journal journal, Clock clock, Caller caller)
{
    public Task<Page<IssueResponse>> ListAsync(IssueListQuery query, CancellationToken ct)
        => db.PageAsync(ListSql, Db.KeysetArgs(Filters(query), query.After, query.EffectiveLimit + 1), query, (IssueRow r) => (object)r.Id, r => r.ToResponse(), ct);

    /// <summary>Every issue the filters select, in id order, for an export (see <see cref="Db.ExportAsync{TRow, T}"/>).</summary>
    public IAsyncEnumerable<IssueResponse> ExportAsync(IssueListQuery query, CancellationToken ct)
        => db.ExportAsync(ListSql, Filters(query), query, (IssueRow r) => r.ToResponse(), item => item.Id, ct);

    /// <summary>The list's filters, checked, with "today" taken once so that every page of an export derives from the same day.</summary>
    object Filters(IssueListQuery query) => new
    {
        today = clock.Today,
        round = query.Round,
        state = QueryEnums.Checked<IssueState>(query.State, "state"),
        category = query.Category,
        leadUnit = query.LeadUnit,
        parent = query.Parent,
        topLevel = query.TopLevel,
        overdue = query.Overdue,
        pattern = TextSearch.ContainsPattern(query.Q),
        readable = caller.ReadableUnits,
    };

    /// <summary>One issue with its sub-issues and its measures, or null: one round trip.</summary>
    public Task<(IssueResponse Issue, int Version)?> FindAsync(long id, CancellationToken ct)
        => db.ReadAsync<(IssueResponse, int)?>(async (connection, token) =>
        {
            var args = new { id, issueId = id, today = clock.Today, dueSoon = clock.DueSoonUntil, readable = caller.ReadableUnits };
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(
                $"{ReadableFindSql};\n{ChildrenSql};\n{Measures.MeasureRepository.ForIssueSql}", args, cancellationToken: token));
            var row = await results.ReadSingleOrDefaultAsync<IssueRow>();
            var children = (await results.ReadAsync<IssueRow>()).Select(c => c.ToResponse()).ToList();
            var measures = await Measures.MeasureRepository.ReadForIssueAsync(results);
            return row is null ? null : (row.ToResponse() with { SubIssues = children, Measures = measures }, row.Version);
        }, ct);

    public async Task<(IssueResponse Issue, int Version)> CreateAsync(Tx tx, CreateIssueRequest request, CancellationToken ct)
    {
        var place = await tx.QuerySingleOrDefaultAsync<Placement>(PlacementSql, new { round = request.Round, parentId = request.ParentId }, ct)
            ?? throw Problem.Unprocessable("round", $"No round '{request.Round}' exists.");
        if (request.ParentId is not null && place.ParentRoundId != place.RoundId)
            throw Problem.Unprocessable("parentId", $"No issue {request.ParentId} exists in round '{request.Round}'.");
        await UnitScope.EnsureMayWriteAsync(tx, caller, request.LeadUnit, "The new issue's lead", ct);

        var id = await tx.QuerySingleAsync<long>(InsertSql, new
        {
            roundId = place.RoundId, request.ParentId, request.Code, request.Title, request.Description, request.Category,
            request.LeadUnit, request.ResponsibleLeader, request.DueDate, now = clock.UtcNow,
        }, ct);
        var created = await ReadInAsync(tx, id, ct);
        await journal.RecordAsync(tx, "issue", id, "create", null, created.ToResponse(), ct);
        return (created.ToResponse(), created.Version);
    }

    public Task<(IssueResponse Issue, int Version)> UpdateAsync(long id, UpdateIssueRequest request, int? expectedVersion, CancellationToken ct)
        => ChangeAsync(id, expectedVersion, "update", before =>
        {
            IssueStates.EnsureAllowed(before.StateValue, request.State, byAction: false);
            // Sending a pending_review issue back to work is the review's answer, as closing is.
            if (before.StateValue == IssueState.PendingReview && request.State != IssueState.PendingReview) EnsureMayDecide(before, "send it back");
            return (UpdateSql, new
            {
                id, request.Title, request.Description, request.Category, request.LeadUnit, request.ResponsibleLeader, request.DueDate,
                state = EnumText.Format(request.State), now = clock.UtcNow,
            });
        }, ct, (tx, before, token) => request.LeadUnit == before.LeadUnitCode ? Task.CompletedTask
            : UnitScope.EnsureMayWriteAsync(tx, caller, request.LeadUnit, $"The new lead of issue {id}", token));

    public Task<(IssueResponse Issue, int Version)> RequestReviewAsync(long id, ReviewIssueRequest request, int? expectedVersion, CancellationToken ct)
        => ChangeAsync(id, expectedVersion, "review", before =>
        {
            IssueStates.EnsureAllowed(before.StateValue, IssueState.PendingReview, byAction: true);
            return (ReviewSql, new { id, note = request.Note, by = caller.Name, now = clock.UtcNow });
        }, ct);

    public Task<(IssueResponse Issue, int Version)> CloseAsync(long id, CloseIssueRequest request, int? expectedVersion, CancellationToken ct)
        => ChangeAsync(id, expectedVersion, "close", before =>
        {
            IssueStates.EnsureAllowed(before.StateValue, IssueState.Closed, byAction: true);
            EnsureMayDecide(before, "sign it off");
            if (request.ClosedOn > clock.Today) throw Problem.Validation("closedOn", "closedOn cannot be in the future.");
            return (CloseSql, new { id, request.Reviewer, request.ClosedOn, request.Conclusion, now = clock.UtcNow });
        }, ct, (tx, _, token) => EnsureNothingBlocksClosingAsync(tx, id, token));

    /// <summary>
    /// Locks the issue, checks its version and that the caller's units lead it, applies one statement (after the
    /// rules of <paramref name="change"/> and <paramref name="check"/>), and journals before and after.
    /// </summary>
    Task<(IssueResponse Issue, int Version)> ChangeAsync(
        long id, int? expectedVersion, string action, Func<IssueRow, (string Sql, object Args)> change, CancellationToken ct,
        Func<Tx, IssueRow, CancellationToken, Task>? check = null)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = await Versioned.LockAsync<IssueRow>(tx, LockSql, new { id, today = clock.Today }, expectedVersion, "issue", id, token);
            // An issue is its lead unit's: owning one of its measures lets a unit report on that measure, not change the issue.
            await UnitScope.EnsureMayWriteAsync(tx, caller, before.LeadUnitCode, $"Issue {id}", token);
            var (sql, args) = change(before);
            if (check is not null) await check(tx, before, token);
            await tx.ExecuteAsync(sql, args, token);
            var after = await ReadInAsync(tx, id, token);
            await journal.RecordAsync(tx, "issue", id, action, before.ToResponse(), after.ToResponse(), token);
            return (after.ToResponse(), after.Version);
        }, ct);

    /// <summary>
    /// The review's decisions (sign-off, sending back) need the review scope and someone other than the client that
    /// asked for the review: the unit that did the work asks, another decides.
    /// </summary>
    void EnsureMayDecide(IssueRow issue, string decision)
    {
        if (!caller.Holds(Scopes.Review))
            throw Problem.Forbidden($"To {decision} is the review's decision: this key lacks the scope '{Scopes.Review}' that it needs.");
        if (issue.ReviewRequestedBy == caller.Name)
            throw new ProblemException(StatusCodes.Status403Forbidden, ProblemTypes.SeparationOfDuties, "A client cannot decide on its own request",
                $"Client '{caller.Name}' asked for this issue's sign-off; another client with the scope '{Scopes.Review}' must {decision}.");
    }

    /// <summary>销号 needs every measure done or cancelled (with its reason) and every sub-issue closed.</summary>
    static async Task EnsureNothingBlocksClosingAsync(Tx tx, long id, CancellationToken ct)
    {
        var measures = (await tx.QueryAsync<BlockingItem>(BlockingMeasuresSql, new { id }, ct)).AsList();
        var subIssues = (await tx.QueryAsync<BlockingItem>(BlockingSubIssuesSql, new { id }, ct)).AsList();
        if (measures.Count == 0 && subIssues.Count == 0) return;
        throw new ProblemException(StatusCodes.Status409Conflict, ProblemTypes.ClosingBlocked, "The issue cannot be closed yet",
            $"{measures.Count} measure(s) are neither done nor cancelled and {subIssues.Count} sub-issue(s) are not closed.",
            new Dictionary<string, object?> { ["blockingMeasures"] = measures, ["blockingSubIssues"] = subIssues });
    }

    Task<IssueRow> ReadInAsync(Tx tx, long id, CancellationToken ct) => tx.QuerySingleAsync<IssueRow>(FindSql, new { id, today = clock.Today }, ct);

    sealed class Placement
    {
        public long RoundId { get; init; }
        public long? ParentRoundId { get; init; }
    }

    // Derived values are computed from the live rows and "today" at read time, never stored.
    const string Select = """
        SELECT i.id, i.round_id, r.code AS round_code, i.parent_id, i.code, i.title, i.description, i.category, i.lead_unit_code,
               i.responsible_leader, i.state, i.due_date, i.review_requested_at, i.review_requested_by, i.review_note,
               i.closed_at, i.closed_on, i.reviewer, i.conclusion, i.version, i.created_at, i.updated_at,
               coalesce(i.due_date < @today AND i.state IN ('open', 'in_progress'), false) AS overdue,
               s.progress, s.measure_count
        FROM issues i
        JOIN rounds r ON r.id = i.round_id
        LEFT JOIN LATERAL (
            SELECT avg(m.progress) FILTER (WHERE m.state <> 'cancelled') AS progress, count(*)::int AS measure_count
            FROM measures m WHERE m.issue_id = i.id
        ) s ON true
        """;

    const string ListSql = $"""
        {Select}
        WHERE (@round::text IS NULL OR r.code = @round)
          AND (@state::text IS NULL OR i.state = @state)
          AND (@category::text IS NULL OR i.category = @category)
          AND (@leadUnit::text IS NULL OR i.lead_unit_code = @leadUnit)
          AND (@parent::bigint IS NULL OR i.parent_id = @parent)
          AND (@topLevel::boolean IS NULL OR (i.parent_id IS NULL) = @topLevel)
          AND (@overdue::boolean IS NULL OR coalesce(i.due_date < @today AND i.state IN ('open', 'in_progress'), false) = @overdue)
          AND (@pattern::text IS NULL OR i.code ILIKE @pattern OR i.title ILIKE @pattern OR i.description ILIKE @pattern)
          AND {Readable}
          AND i.id > @after
        ORDER BY i.id
        LIMIT @limit
        """;

    // A client whose reads are limited to its units sees the issues its units lead or own a measure of (see Caller.ReadableUnits).
    const string Readable = """
        (@readable::text[] IS NULL OR i.lead_unit_code IN (SELECT units_under(@readable))
         OR EXISTS (SELECT 1 FROM measures rm WHERE rm.issue_id = i.id AND rm.owner_unit_code IN (SELECT units_under(@readable))))
        """;

    const string FindSql = $"{Select} WHERE i.id = @id";
    const string ReadableFindSql = $"{Select} WHERE i.id = @id AND {Readable}";
    const string ChildrenSql = $"{Select} WHERE i.parent_id = @id AND {Readable} ORDER BY i.id";
    const string LockSql = $"{Select} WHERE i.id = @id FOR UPDATE OF i";

    const string PlacementSql = """
        SELECT r.id AS round_id, (SELECT p.round_id FROM issues p WHERE p.id = @parentId) AS parent_round_id
        FROM rounds r WHERE r.code = @round
        """;

    const string InsertSql = """
        INSERT INTO issues (round_id, parent_id, code, title, description, category, lead_unit_code, responsible_leader, state, due_date,
                            created_at, updated_at)
        VALUES (@roundId, @parentId, @code, @title, @description, @category, @leadUnit, @responsibleLeader, 'open', @dueDate, @now, @now)
        RETURNING id
        """;

    const string UpdateSql = """
        UPDATE issues
        SET title = @title, description = @description, category = @category, lead_unit_code = @leadUnit,
            responsible_leader = @responsibleLeader, due_date = @dueDate, state = @state, version = version + 1, updated_at = @now
        WHERE id = @id
        """;

    const string ReviewSql = """
        UPDATE issues
        SET state = 'pending_review', review_requested_at = @now, review_requested_by = @by, review_note = @note,
            version = version + 1, updated_at = @now
        WHERE id = @id
        """;

    const string CloseSql = """
        UPDATE issues
        SET state = 'closed', reviewer = @reviewer, closed_on = @closedOn, conclusion = @conclusion, closed_at = @now,
            version = version + 1, updated_at = @now
        WHERE id = @id
        """;

    const string BlockingMeasuresSql = """
        SELECT id, code, title, state FROM measures
        WHERE issue_id = @id AND NOT (state = 'done' OR (state = 'cancelled' AND cancel_reason IS NOT NULL))
        ORDER BY id
        """;

    const string BlockingSubIssuesSql = "SELECT id, code, title, state FROM issues WHERE parent_id = @id AND state <> 'closed' ORDER BY id";
}
