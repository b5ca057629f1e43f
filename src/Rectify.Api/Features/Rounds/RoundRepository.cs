using Dapper;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Rounds;

/// <summary>
/// The SQL of rounds: one statement per method, on the transaction given (writes) or one pooled connection (reads).
/// The rules are <see cref="RoundUseCases"/>'.
/// </summary>
public sealed class RoundRepository(Db db)
{
    public Task<Page<RoundResponse>> ListAsync(RoundListQuery query, CancellationToken ct)
    {
        var args =
            new { state = QueryEnums.Checked<RoundState>(query.State, "state"), unit = query.InspectedUnit, after = query.After,
            limit = query.EffectiveLimit + 1 };
        return db.PageAsync(ListSql, args, query, (RoundRow r) => (object)r.Id, r => r.ToResponse(), ct);
    }

    /// <summary>One round with its version, or null.</summary>
    public Task<(RoundResponse Round, int Version)?> FindAsync(string code, CancellationToken ct)
        => db.ReadAsync<(RoundResponse, int)?>(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<RoundRow>(new CommandDefinition(FindSql, new { code }, cancellationToken: token)) is { } row
                ? (row.ToResponse(), row.Version)
                : null, ct);

    internal Task<RoundRow> InsertAsync(Tx tx, CreateRoundRequest request, DateTime now, CancellationToken ct)
        => tx.QuerySingleAsync<RoundRow>(InsertSql, Parameters(request, request.Code, now), ct);

    /// <summary>The round, locked for change, or null.</summary>
    internal Task<RoundRow?> LockAsync(Tx tx, string code, CancellationToken ct) => tx.QuerySingleOrDefaultAsync<RoundRow>(LockSql, new { code }, ct);

    /// <summary>Replaces the round's fields; the round as it is now.</summary>
    internal Task<RoundRow> UpdateAsync(Tx tx, string code, UpdateRoundRequest request, DateTime now, CancellationToken ct)
        => tx.QuerySingleAsync<RoundRow>(UpdateSql, Parameters(request, code, now), ct);

    static object Parameters(RoundFields r, string code, DateTime now) => new
    {
        code, r.Name, r.NameEn, unit = r.InspectedUnit, r.InspectionBody, r.InspectionStart, r.InspectionEnd, r.FeedbackDate,
        r.RectificationDeadline, state = EnumText.Format(r.State), now,
    };

    const string Columns = """
        id, code, name, name_en, inspected_unit_code, inspection_body, inspection_start, inspection_end,
        feedback_date, rectification_deadline, state, version, created_at, updated_at
        """;

    const string ListSql = $"""
        SELECT {Columns} FROM rounds
        WHERE (@state::text IS NULL OR state = @state)
          AND (@unit::text IS NULL OR inspected_unit_code = @unit)
          AND id > @after
        ORDER BY id
        LIMIT @limit
        """;

    const string FindSql = $"SELECT {Columns} FROM rounds WHERE code = @code";
    const string LockSql = $"SELECT {Columns} FROM rounds WHERE code = @code FOR UPDATE";

    const string InsertSql = $"""
        INSERT INTO rounds (code, name, name_en, inspected_unit_code, inspection_body, inspection_start, inspection_end,
                            feedback_date, rectification_deadline, state, created_at, updated_at)
        VALUES (@code, @name, @nameEn, @unit, @inspectionBody, @inspectionStart, @inspectionEnd,
                @feedbackDate, @rectificationDeadline, @state, @now, @now)
        RETURNING {Columns}
        """;

    const string UpdateSql = $"""
        UPDATE rounds
        SET name = @name, name_en = @nameEn, inspected_unit_code = @unit, inspection_body = @inspectionBody,
            inspection_start = @inspectionStart, inspection_end = @inspectionEnd, feedback_date = @feedbackDate,
            rectification_deadline = @rectificationDeadline, state = @state, version = version + 1, updated_at = @now
        WHERE code = @code
        RETURNING {Columns}
        """;
}
