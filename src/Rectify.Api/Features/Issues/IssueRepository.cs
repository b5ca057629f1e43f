using Rectify.Api.Features.Measures;
using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Issues;

/// <summary>
/// The SQL of issues: one round trip per statement, on the transaction given (writes) or one pooled connection
/// (reads). The rules are <see cref="IssueUseCases"/>'. <c>day</c> is the day overdue and the warning level are taken on;
/// <c>readable</c> the caller's readable units (<see cref="Infrastructure.Auth.Caller.ReadableUnits"/>), null for every unit.
/// </summary>
public sealed class IssueRepository(Db db)
{
    public Task<Page<IssueResponse>> ListAsync(IssueListQuery query, MeasureDay day, string[]? readable, CancellationToken ct)
    {
        var filters = Filters(query, day, readable);
        return db.PageAsync(ListSql(filters), Db.KeysetArgs(filters.Args, query.After, query.EffectiveLimit + 1), query,
            (IssueRow r) => (object)r.Id, r => r.ToResponse(), ct);
    }

    /// <summary>Every issue the filters select, in id order, for an export (see <see cref="Db.ExportAsync{TRow, T}"/>).</summary>
    public IAsyncEnumerable<IssueResponse> ExportAsync(IssueListQuery query, MeasureDay day, string[]? readable, CancellationToken ct)
    {
        var filters = Filters(query, day, readable);
        return db.ExportAsync(ListSql(filters), filters.Args, query, (IssueRow r) => r.ToResponse(), item => item.Id, ct);
    }

    /// <summary>
    /// The round filter of lists over issue rows <c>i</c>, as the round's id (one lookup the plan runs first), not a join on its code:
    /// the prepared statement's generic plan can then walk the (round_id, state, id) index in id order and stop at the page's end.
    /// Joined on the code, it read the issues in id order and dropped those of other rounds (2.5 ms instead of 0.2 at national scale).
    /// </summary>
    internal const string RoundFilter = "i.round_id = (SELECT id FROM rounds WHERE code = @round)";

    /// <summary>The list's filters, checked, with the day taken once so that every page of an export derives from the same day.</summary>
    static ListFilters Filters(IssueListQuery query, MeasureDay day, string[]? readable) => new ListFilters()
        .With("today", day.Today).With("dueSoon", day.DueSoon).With("notice", day.Notice)
        .Where("round", query.Round, RoundFilter)
        .Where("state", QueryEnums.Checked<IssueState>(query.State, "state"), "i.state = @state")
        .Where("category", query.Category, "i.category = @category")
        .Where("leadUnit", query.LeadUnit, "i.lead_unit_code = @leadUnit")
        .Where("parent", query.Parent, "i.parent_id = @parent")
        .Where("topLevel", query.TopLevel, "(i.parent_id IS NULL) = @topLevel")
        .Where("overdue", query.Overdue, $"coalesce({Warnings.WarningLevels.Issue} = 'red', false) = @overdue")
        .Where("pattern", TextSearch.ContainsPattern(query.Q), "(i.code ILIKE @pattern OR i.title ILIKE @pattern OR i.description ILIKE @pattern)")
        .Where("warning", QueryEnums.Checked<Warnings.WarningLevel>(query.Warning, "warning"), $"{Warnings.WarningLevels.Issue} = @warning")
        .Where("readable", readable, Readable)
        .Where("deferred", query.Deferred, "(i.deferral_count > 0) = @deferred")
        .Where("consolidating", query.Consolidating, $"{Consolidating} = @consolidating");

    /// <summary>One issue with its sub-issues and its measures, or null (also when <paramref name="readable"/> hides it): one round trip.</summary>
    public Task<(IssueResponse Issue, int Version)?> FindAsync(long id, MeasureDay day, string[]? readable, CancellationToken ct)
        => db.ReadAsync<(IssueResponse, int)?>(async (connection, token) =>
        {
            var args = new { id, issueId = id, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice, readable };
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(
                $"{ReadableFindSql};\n{ChildrenSql};\n{MeasureRepository.ForIssueSql}", args, cancellationToken: token));
            var row = await results.ReadSingleOrDefaultAsync<IssueRow>();
            var children = (await results.ReadAsync<IssueRow>()).Select(c => c.ToResponse()).ToList();
            var measures = await MeasureRepository.ReadForIssueAsync(results);
            return row is null ? null : (row.ToResponse() with { SubIssues = children, Measures = measures }, row.Version);
        }, ct);

    /// <summary>Where a new issue goes: its round's id and its parent's round, or null when there is no such round.</summary>
    internal Task<IssuePlacement?> PlacementAsync(Tx tx, string round, long? parentId, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<IssuePlacement>(PlacementSql, new { round, parentId }, ct);

    internal async Task<IssueRow> InsertAsync(Tx tx, CreateIssueRequest request, long roundId, MeasureDay day, DateTime now, CancellationToken ct)
    {
        var id = await tx.QuerySingleAsync<long>(InsertSql, new
        {
            roundId, request.ParentId, request.Code, request.Title, request.Description, request.Category,
            request.LeadUnit, request.ResponsibleLeader, request.DueDate, now,
        }, ct);
        return await ReadInAsync(tx, id, day, ct);
    }

    /// <summary>The issue, locked for change, or null.</summary>
    internal Task<IssueRow?> LockAsync(Tx tx, long id, MeasureDay day, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<IssueRow>(LockSql, new { id, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice }, ct);

    /// <summary>Replaces the issue's fields and state; the issue as it is now.</summary>
    internal Task<IssueRow> UpdateAsync(Tx tx, long id, UpdateIssueRequest request, MeasureDay day, DateTime now, CancellationToken ct)
        => ApplyAsync(tx, id, day, UpdateSql, new
        {
            id, request.Title, request.Description, request.Category, request.LeadUnit, request.ResponsibleLeader, request.DueDate,
            state = EnumText.Format(request.State), now,
        }, ct);

    /// <summary>Moves the issue to pending_review, recording who asked and when; the issue as it is now.</summary>
    internal Task<IssueRow> RequestReviewAsync(Tx tx, long id, string? note, string by, MeasureDay day, DateTime now, CancellationToken ct)
        => ApplyAsync(tx, id, day, ReviewSql, new { id, note, by, now }, ct);

    /// <summary>Closes the issue with the accepted sign-off's reviewer, comment and watch-until date; the issue as it is now.</summary>
    internal Task<IssueRow> CloseAsync(Tx tx, long id, string reviewer, string conclusion, DateOnly? watchUntil, MeasureDay day, DateTime now,
        CancellationToken ct)
        => ApplyAsync(tx, id, day, CloseSql, new { id, reviewer, closedOn = day.Today, conclusion, watchUntil, now }, ct);

    /// <summary>Moves the issue to <paramref name="state"/> (back to work, or reopened), clearing a closure; the issue as it is now.</summary>
    internal Task<IssueRow> ReturnToWorkAsync(Tx tx, long id, MeasureDay day, DateTime now, CancellationToken ct)
        => ApplyAsync(tx, id, day, ReturnSql, new { id, now }, ct);

    /// <summary>The sub-issues of the issue that are not closed yet.</summary>
    public async Task<IReadOnlyList<BlockingItem>> OpenSubIssuesAsync(Tx tx, long id, CancellationToken ct)
        => (await tx.QueryAsync<BlockingItem>(BlockingSubIssuesSql, new { id }, ct)).AsList();

    async Task<IssueRow> ApplyAsync(Tx tx, long id, MeasureDay day, string sql, object args, CancellationToken ct)
    {
        await tx.ExecuteAsync(sql, args, ct);
        return await ReadInAsync(tx, id, day, ct);
    }

    /// <summary>The issue as it is now in <paramref name="tx"/>.</summary>
    internal Task<IssueRow> ReadInAsync(Tx tx, long id, MeasureDay day, CancellationToken ct)
        => tx.QuerySingleAsync<IssueRow>(FindSql, new { id, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice }, ct);

    /// <summary>巩固: an issue row <c>i</c> closed and watched until <c>@today</c> or later.</summary>
    internal const string Consolidating = "(i.state = 'closed' AND coalesce(i.watch_until >= @today, false))";

    // Derived values are computed from the live rows and "today" at read time, never stored.
    const string Select = $"""
        SELECT i.id, i.round_id, r.code AS round_code, i.parent_id, i.code, i.title, i.description, i.category, i.lead_unit_code,
               i.responsible_leader, i.state, i.due_date, i.review_requested_at, i.review_requested_by, i.review_note,
               i.closed_at, i.closed_on, i.reviewer, i.conclusion, i.version, i.created_at, i.updated_at,
               coalesce({Warnings.WarningLevels.Issue} = 'red', false) AS overdue,
               s.progress, s.measure_count,
               coalesce(i.original_due_date, i.due_date) AS original_due_date, i.deferral_count,
               {Warnings.WarningLevels.Issue} AS warning_level,
               i.watch_until, {Consolidating} AS consolidating
        FROM issues i
        JOIN rounds r ON r.id = i.round_id
        LEFT JOIN LATERAL (
            SELECT avg(m.progress) FILTER (WHERE m.state <> 'cancelled') AS progress, count(*)::int AS measure_count
            FROM measures m WHERE m.issue_id = i.id
        ) s ON true
        """;

    static string ListSql(ListFilters filters) => $"""
        {Select}
        WHERE {filters.Sql}
          AND i.id > @after
        ORDER BY i.id
        LIMIT @limit
        """;

    // A client whose reads are limited to its units sees the issues its units lead or own a measure of (see Caller.ReadableUnits).
    internal const string Readable = """
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
            watch_until = @watchUntil, version = version + 1, updated_at = @now
        WHERE id = @id
        """;

    const string ReturnSql = """
        UPDATE issues
        SET state = 'in_progress', reviewer = NULL, closed_on = NULL, conclusion = NULL, closed_at = NULL, watch_until = NULL,
            version = version + 1, updated_at = @now
        WHERE id = @id
        """;

    const string BlockingSubIssuesSql = "SELECT id, code, title, state FROM issues WHERE parent_id = @id AND state <> 'closed' ORDER BY id";
}

/// <summary>Where a new issue goes: its round, and the round of the parent it names (null without one).</summary>
sealed class IssuePlacement
{
    public long RoundId { get; init; }
    public long? ParentRoundId { get; init; }
}
