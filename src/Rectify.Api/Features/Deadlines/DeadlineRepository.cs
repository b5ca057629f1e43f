using Dapper;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Deadlines;

/// <summary>
/// The SQL of deadline changes: a move recorded and applied to its item in one statement (the item's due date, its
/// original due date and its deferral count), and the moves of one item read back. The rules are <see cref="DeadlineUseCases"/>'.
/// </summary>
public sealed class DeadlineRepository(Db db)
{
    /// <summary>Records the move of the issue's due date and applies it (the issue's version moves on); the change recorded.</summary>
    internal Task<DeadlineChangeResponse> MoveIssueAsync(Tx tx, long id, ChangeDeadlineRequest request, string by, DateTime now, CancellationToken ct)
        => tx.QuerySingleAsync<DeadlineChangeResponse>(MoveIssueSql, new { id, request.DueDate, request.Reason, by, now }, ct);

    /// <summary>Records the move of the measure's due date and applies it (the measure's version moves on); the change recorded.</summary>
    internal Task<DeadlineChangeResponse> MoveMeasureAsync(Tx tx, long id, ChangeDeadlineRequest request, string by, DateTime now,
        CancellationToken ct)
        => tx.QuerySingleAsync<DeadlineChangeResponse>(MoveMeasureSql, new { id, request.DueDate, request.Reason, by, now }, ct);

    /// <summary>The moves of the issue's due date, oldest first; null when there is no such issue or <paramref name="readable"/> hides it.</summary>
    public Task<IReadOnlyList<DeadlineChangeResponse>?> ListForIssueAsync(long id, string[]? readable, CancellationToken ct)
        => ListAsync(IssueChangesSql, id, readable, ct);

    /// <summary>The moves of the measure's due date, oldest first; null when there is no such measure or <paramref name="readable"/> hides
    /// it.</summary>
    public Task<IReadOnlyList<DeadlineChangeResponse>?> ListForMeasureAsync(long id, string[]? readable, CancellationToken ct)
        => ListAsync(MeasureChangesSql, id, readable, ct);

    Task<IReadOnlyList<DeadlineChangeResponse>?> ListAsync(string sql, long id, string[]? readable, CancellationToken ct)
        => db.ReadAsync<IReadOnlyList<DeadlineChangeResponse>?>(async (connection, token) =>
        {
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(sql, new { id, readable }, cancellationToken: token));
            var exists = await results.ReadSingleAsync<bool>();
            var changes = (await results.ReadAsync<DeadlineChangeResponse>()).AsList();
            return exists ? changes : null;
        }, ct);

    const string Columns = "id, issue_id, measure_id, previous_due_date, due_date, reason, deferral, changed_by, changed_at";

    static readonly string MoveIssueSql = MoveSql("issues", "issue_id");
    static readonly string MoveMeasureSql = MoveSql("measures", "measure_id");

    // The insert reads the item's due date as it was (the row is locked by the caller); the update sees the same snapshot, so
    // original_due_date keeps the date before the first change and deferral_count counts the later dates only.
    // (Table and column are the two fixed pairs above, never input.)
    static string MoveSql(string table, string itemColumn) => $"""
        WITH change AS (
            INSERT INTO deadline_changes ({itemColumn}, previous_due_date, due_date, reason, changed_by, changed_at)
            SELECT t.id, t.due_date, @dueDate, @reason, @by, @now FROM {table} t WHERE t.id = @id
            RETURNING {Columns}
        ),
        moved AS (
            UPDATE {table} t
            SET due_date = c.due_date, original_due_date = coalesce(t.original_due_date, c.previous_due_date),
                deferral_count = t.deferral_count + c.deferral::int, version = t.version + 1, updated_at = @now
            FROM change c
            WHERE t.id = c.{itemColumn}
        )
        SELECT {Columns} FROM change
        """;

    const string IssueChangesSql = $"""
        SELECT EXISTS (SELECT 1 FROM issues i WHERE i.id = @id AND {IssueRepository.Readable});
        SELECT {Columns} FROM deadline_changes WHERE issue_id = @id ORDER BY id
        """;

    const string MeasureChangesSql = $"""
        SELECT EXISTS (SELECT 1 FROM measures m WHERE m.id = @id AND {MeasureRepository.Readable});
        SELECT {Columns} FROM deadline_changes WHERE measure_id = @id ORDER BY id
        """;
}
