using System.Globalization;
using Dapper;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Warnings;

/// <summary>
/// The SQL of warnings: the items of a round at a level now, the items whose level differs from the last one recorded (the
/// daily job), and the recorded changes. Levels come from <see cref="WarningLevels"/>, as on every read of an item.
/// </summary>
/// <remarks><c>readable</c> is the caller's readable units (<see cref="Infrastructure.Auth.Caller.ReadableUnits"/>), null for every unit.</remarks>
public sealed class WarningRepository(Db db)
{
    /// <summary>The round's items at a level, most urgent first, or null when there is no such round.</summary>
    internal Task<IReadOnlyList<WarningItemRow>?> CurrentAsync(string round, RoundWarningsQuery query, MeasureDay day, string[]? readable,
        CancellationToken ct)
        => db.ReadAsync<IReadOnlyList<WarningItemRow>?>(async (connection, token) =>
        {
            using var results = await connection.QueryMultipleAsync(new CommandDefinition($"{RoundSql};\n{CurrentSql}", new
            {
                round, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice, readable,
                level = Infrastructure.Http.QueryEnums.Checked<WarningLevel>(query.Level, "level"), ownerUnit = query.OwnerUnit,
                kind = Infrastructure.Http.QueryEnums.Checked<WarningItemKind>(query.Kind, "kind"),
            }, cancellationToken: token));
            var exists = await results.ReadSingleOrDefaultAsync<long?>() is not null;
            var items = (await results.ReadAsync<WarningItemRow>()).AsList();
            return exists ? items : null;
        }, ct);

    /// <summary>The recorded level changes of one item, oldest first.</summary>
    public async Task<IReadOnlyList<WarningChangeResponse>> ChangesAsync(WarningItemKind kind, long id, CancellationToken ct)
        => (await db.ReadAsync((connection, token) => connection.QueryAsync<WarningChangeRow>(new CommandDefinition(
            ChangesSql, new { kind = EnumText.Format(kind), id }, cancellationToken: token)), ct)).Select(r => r.ToResponse()).ToList();

    /// <summary>Claims <paramref name="day"/> for the daily job: false when a run of that day exists (on this node or another).</summary>
    public async Task<bool> ClaimDayAsync(Tx tx, DateOnly day, DateTime now, CancellationToken ct)
        => await tx.QuerySingleOrDefaultAsync<bool?>(ClaimSql, new { day, now }, ct) is true;

    /// <summary>Every item (all rounds) whose level now differs from the last one recorded for it.</summary>
    internal async Task<IReadOnlyList<WarningItemRow>> ChangedAsync(Tx tx, MeasureDay day, CancellationToken ct)
        => (await tx.QueryAsync<WarningItemRow>(ChangedSql, new
        {
            round = (string?)null, today = day.Today, dueSoon = day.DueSoon, notice = day.Notice, readable = (string[]?)null,
        }, ct)).AsList();

    /// <summary>Records the changes, dated <paramref name="day"/>, in one statement (the database raises their webhook events); the rows as
    /// recorded.</summary>
    internal async Task<IReadOnlyList<WarningChangeResponse>> RecordAsync(Tx tx,
        IReadOnlyList<(WarningItemRow Item, EscalationTo? To, string? Target)> changes,
        DateOnly day, DateTime now, CancellationToken ct)
    {
        if (changes.Count == 0) return [];
        static string? Date(DateOnly? d) => d?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var rows = await tx.QueryAsync<WarningChangeRow>(RecordSql, new
        {
            kinds = changes.Select(c => c.Item.Kind).ToArray(), ids = changes.Select(c => c.Item.Id).ToArray(),
            roundIds = changes.Select(c => c.Item.RoundId).ToArray(), codes = changes.Select(c => c.Item.Code).ToArray(),
            owners = changes.Select(c => c.Item.OwnerUnit).ToArray(), froms = changes.Select(c => c.Item.LastLevel).ToArray(),
            tos = changes.Select(c => c.Item.Level).ToArray(), dues = changes.Select(c => Date(c.Item.DueDate)).ToArray(),
            escalateTo = changes.Select(c => c.To is { } to ? EnumText.Format(to) : null).ToArray(),
                escalations = changes.Select(c => c.Target).ToArray(),
            day, now,
        }, ct);
        await tx.ExecuteAsync("UPDATE warning_runs SET recorded = @count WHERE run_on = @day", new { count = changes.Count, day }, ct);
        return rows.Select(r => r.ToResponse()).ToList();
    }

    const string RoundSql = "SELECT id FROM rounds WHERE code = @round";

    // The issues and measures of a round (@round, or every round when null) with their level now; a client limited to units
    // sees the measures its units own and the issues they lead.
    const string ItemsCte = $"""
        items AS (
            SELECT 'measure' AS kind, m.id, m.code, i.round_id, i.id AS issue_id, i.code AS issue_code, m.title, m.owner_unit_code AS owner_unit,
                   i.lead_unit_code AS lead_unit, i.responsible_leader, m.state, m.due_date, {WarningLevels.Measure} AS level
            FROM measures m JOIN issues i ON i.id = m.issue_id
            WHERE (@round::text IS NULL OR i.round_id = (SELECT id FROM rounds WHERE code = @round))
              AND (@readable::text[] IS NULL OR m.owner_unit_code IN (SELECT units_under(@readable)))
            UNION ALL
            SELECT 'issue', i.id, i.code, i.round_id, i.id, i.code, i.title, i.lead_unit_code, i.lead_unit_code, i.responsible_leader, i.state,
                   i.due_date, {WarningLevels.Issue}
            FROM issues i
            WHERE (@round::text IS NULL OR i.round_id = (SELECT id FROM rounds WHERE code = @round))
              AND (@readable::text[] IS NULL OR i.lead_unit_code IN (SELECT units_under(@readable)))
        )
        """;

    // The item's latest recorded change: its level as last recorded, and since when.
    const string LastChange = """
        LEFT JOIN LATERAL (
            SELECT w.to_level, w.changed_on FROM warning_changes w WHERE w.item_kind = it.kind AND w.item_id = it.id ORDER BY w.id DESC LIMIT 1
        ) last ON true
        """;

    const string CurrentSql = $"""
        WITH {ItemsCte}
        SELECT it.*, u.name AS owner_unit_name, last.to_level AS last_level, last.changed_on AS last_changed_on
        FROM items it
        LEFT JOIN units u ON u.code = it.owner_unit
        {LastChange}
        WHERE it.level IS NOT NULL
          AND (@level::text IS NULL OR it.level = @level)
          AND (@ownerUnit::text IS NULL OR it.owner_unit = @ownerUnit)
          AND (@kind::text IS NULL OR it.kind = @kind)
        ORDER BY CASE it.level WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END, it.due_date, it.kind, it.id
        """;

    const string ChangedSql = $"""
        WITH {ItemsCte}
        SELECT it.*, NULL AS owner_unit_name, last.to_level AS last_level, last.changed_on AS last_changed_on
        FROM items it
        {LastChange}
        WHERE it.level IS DISTINCT FROM last.to_level
        ORDER BY it.kind, it.id
        """;

    const string ClaimSql = """
        INSERT INTO warning_runs (run_on, ran_at, recorded) VALUES (@day, @now, 0)
        ON CONFLICT (run_on) DO NOTHING
        RETURNING true
        """;

    const string ChangeColumns = """
        w.id, w.item_kind, w.item_id, r.code AS round, w.code, w.owner_unit_code, w.from_level, w.to_level, w.changed_on, w.due_date,
        w.escalate_to, w.escalation, w.recorded_at
        """;

    const string ChangesSql = $"""
        SELECT {ChangeColumns}
        FROM warning_changes w JOIN rounds r ON r.id = w.round_id
        WHERE w.item_kind = @kind AND w.item_id = @id
        ORDER BY w.id
        """;

    const string RecordSql = $"""
        WITH added AS (
            INSERT INTO warning_changes (item_kind, item_id, round_id, code, owner_unit_code, from_level, to_level, changed_on, due_date,
                                         escalate_to, escalation, recorded_at)
            SELECT c.kind, c.id, c.round_id, c.code, c.owner_unit, c.from_level, c.to_level, @day, c.due_date, c.escalate_to, c.escalation, @now
            FROM unnest(@kinds::text[], @ids::bigint[], @roundIds::bigint[], @codes::text[], @owners::text[], @froms::text[], @tos::text[],
                        @dues::date[], @escalateTo::text[], @escalations::text[]) WITH ORDINALITY
                AS c(kind, id, round_id, code, owner_unit, from_level, to_level, due_date, escalate_to, escalation, ord)
            ORDER BY c.ord
            RETURNING *
        )
        SELECT {ChangeColumns} FROM added w JOIN rounds r ON r.id = w.round_id ORDER BY w.id
        """;
}

/// <summary>An issue or measure with its level now and the level last recorded for it.</summary>
sealed class WarningItemRow
{
    public string Kind { get; init; } = "";
    public long Id { get; init; }
    public string Code { get; init; } = "";
    public long RoundId { get; init; }
    public long IssueId { get; init; }
    public string IssueCode { get; init; } = "";
    public string Title { get; init; } = "";
    public string? OwnerUnit { get; init; }
    public string? OwnerUnitName { get; init; }
    public string? LeadUnit { get; init; }
    public string? ResponsibleLeader { get; init; }
    public string State { get; init; } = "";
    public DateOnly? DueDate { get; init; }
    public string? Level { get; init; }
    public string? LastLevel { get; init; }
    public DateOnly? LastChangedOn { get; init; }

    public WarningLevel? LevelValue => Level is null ? null : EnumText.Parse<WarningLevel>(Level);
}

sealed class WarningChangeRow
{
    public long Id { get; init; }
    public string ItemKind { get; init; } = "";
    public long ItemId { get; init; }
    public string Round { get; init; } = "";
    public string Code { get; init; } = "";
    public string? OwnerUnitCode { get; init; }
    public string? FromLevel { get; init; }
    public string? ToLevel { get; init; }
    public DateOnly ChangedOn { get; init; }
    public DateOnly? DueDate { get; init; }
    public string? EscalateTo { get; init; }
    public string? Escalation { get; init; }
    public DateTime RecordedAt { get; init; }

    public WarningChangeResponse ToResponse() => new()
    {
        Id = Id, Kind = EnumText.Parse<WarningItemKind>(ItemKind), ItemId = ItemId, Round = Round, Code = Code, OwnerUnit = OwnerUnitCode,
        From = FromLevel is null ? null : EnumText.Parse<WarningLevel>(FromLevel),
            To = ToLevel is null ? null : EnumText.Parse<WarningLevel>(ToLevel),
        ChangedOn = ChangedOn, DueDate = DueDate, EscalateTo = EscalateTo is null ? null : EnumText.Parse<EscalationTo>(EscalateTo),
        Escalation = Escalation, RecordedAt = RecordedAt,
    };
}
