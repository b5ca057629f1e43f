using Dapper;
using Rectify.Api.Features.Journal;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Rounds;

public sealed class RoundRepository(Db db, Journal.Journal journal, Clock clock, Caller caller)
{
    public Task<Page<RoundResponse>> ListAsync(RoundListQuery query, CancellationToken ct)
    {
        var args = new { state = QueryEnums.Checked<RoundState>(query.State, "state"), unit = query.InspectedUnit, after = query.After, limit = query.EffectiveLimit + 1 };
        return db.PageAsync(ListSql, args, query, (RoundRow r) => (object)r.Id, r => r.ToResponse(), ct);
    }

    public Task<(RoundResponse Round, int Version)?> FindAsync(string code, CancellationToken ct)
        => db.ReadAsync<(RoundResponse, int)?>(async (connection, token) =>
            await connection.QuerySingleOrDefaultAsync<RoundRow>(new CommandDefinition(FindSql, new { code }, cancellationToken: token)) is { } row
                ? (row.ToResponse(), row.Version)
                : null, ct);

    public async Task<(RoundResponse Round, int Version)> CreateAsync(Tx tx, CreateRoundRequest request, CancellationToken ct)
    {
        await UnitScope.EnsureMayWriteAsync(tx, caller, request.InspectedUnit, "The new round's inspected unit", ct);
        var row = await tx.QuerySingleAsync<RoundRow>(InsertSql, Parameters(request, request.Code), ct);
        await journal.RecordAsync(tx, "round", row.Code, "create", null, row.ToResponse(), ct);
        return (row.ToResponse(), row.Version);
    }

    public Task<(RoundResponse Round, int Version)> UpdateAsync(string code, UpdateRoundRequest request, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = await Versioned.LockAsync<RoundRow>(tx, LockSql, new { code }, expectedVersion, "round", code, token);
            // A round is its inspected unit's: a client limited to units changes only rounds of its units, and keeps them there.
            await UnitScope.EnsureMayWriteAsync(tx, caller, before.InspectedUnitCode, $"Round '{code}'", token);
            if (request.InspectedUnit != before.InspectedUnitCode)
                await UnitScope.EnsureMayWriteAsync(tx, caller, request.InspectedUnit, $"The new inspected unit of round '{code}'", token);
            var after = await tx.QuerySingleAsync<RoundRow>(UpdateSql, Parameters(request, code), token);
            await journal.RecordAsync(tx, "round", code, "update", before.ToResponse(), after.ToResponse(), token);
            return (after.ToResponse(), after.Version);
        }, ct);

    object Parameters(RoundFields r, string code) => new
    {
        code, r.Name, r.NameEn, unit = r.InspectedUnit, r.InspectionBody, r.InspectionStart, r.InspectionEnd, r.FeedbackDate,
        r.RectificationDeadline, state = EnumText.Format(r.State), now = clock.UtcNow,
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
