using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Snapshots;

/// <summary>
/// The SQL of snapshots: revisions read and written on the caller's transaction, the month's lock, and the reads that
/// pushes and publications check against. The rules are <see cref="SnapshotUseCases"/>'.
/// </summary>
public sealed class SnapshotRepository(Db db, SnapshotBuilder builder, IOptions<JsonOptions> json)
{
    public const string MonthEndJob = "month-end-job";

    public Task<SnapshotList?> ListAsync(string round, CancellationToken ct)
        => db.ReadAsync<SnapshotList?>(async (connection, token) =>
        {
            if (await SnapshotBuilder.FindRoundAsync(connection, null, round, token) is not { } found) return null;
            var items = await connection.QueryAsync<SnapshotListItem>(
                new CommandDefinition(ListSql, new { roundId = found.Id }, cancellationToken: token));
            return new SnapshotList(found.Code, items.ToList());
        }, ct);

    /// <summary>One revision (the latest when <paramref name="revision"/> is null), with its version for the ETag; null when absent.</summary>
    public Task<(SnapshotResponse Snapshot, int Version)?> FindAsync(string round, Period month, int? revision, bool publishedOnly,
        CancellationToken ct)
        => db.ReadAsync<(SnapshotResponse, int)?>(async (connection, token) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<SnapshotRow>(new CommandDefinition(FindSql,
                new { round, period = month, revision, publishedOnly }, cancellationToken: token));
            return row is null ? null : (Represent(row), row.Version);
        }, ct);

    /// <summary>What identifies the revision <see cref="FindAsync"/> would return, without its content: enough to revalidate it.</summary>
    public Task<StoredTag?> FindTagAsync(string round, Period month, int? revision, bool publishedOnly, CancellationToken ct)
        => db.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync<StoredTag>(new CommandDefinition(FindTagSql,
            new { round, period = month, revision, publishedOnly }, cancellationToken: token)), ct);

    /// <summary>A revision's number, status and version: its ETag is <see cref="Tag"/> of the number and the version.</summary>
    public sealed record StoredTag(int Revision, string Status, int Version);

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
                new { round, until, publishedOnly, trendPeriods = months }, cancellationToken: token)))
            .Select(r => (r.Period, r.Rate, EnumText.Parse<SnapshotStatus>(r.Status))).ToList(), ct);

    /// <summary>The round, or null; <see cref="LockMonthAsync"/> then serialises the writes of one of its months.</summary>
    public Task<SnapshotBuilder.RoundRef?> FindRoundAsync(Tx tx, string round, CancellationToken ct)
        => SnapshotBuilder.FindRoundAsync(tx.Connection, tx.Transaction, round, ct);

    /// <summary>Waits for, then holds until the transaction ends, the lock of one round's month: its writes never interleave.</summary>
    public Task LockMonthAsync(Tx tx, long roundId, Period month, CancellationToken ct)
        => tx.ExecuteAsync(MonthLockSql, new { roundId, period = month }, ct);

    /// <summary>Whether the round has any revision of the month.</summary>
    public Task<bool> ExistsAsync(Tx tx, long roundId, Period month, CancellationToken ct)
        => tx.QuerySingleAsync<bool>(ExistsSql, new { roundId, period = month }, ct);

    /// <summary>The month's latest revision, locked for the transaction; null when the month has none.</summary>
    internal Task<SnapshotRow?> LatestForUpdateAsync(Tx tx, long roundId, Period month, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<SnapshotRow>(LatestForUpdateSql, new { roundId, period = month }, ct);

    /// <summary>Whether the round has a revision of a month before <paramref name="month"/>, and whether the month before it is published.</summary>
    public Task<(bool EarlierExists, bool PreviousPublished)> PublicationOrderAsync(Tx tx, long roundId, Period month, CancellationToken ct)
        => tx.QuerySingleAsync<(bool, bool)>(OrderSql, new { roundId, period = month, previous = month.Previous() }, ct);

    /// <summary>The month's state read from live data on the transaction.</summary>
    public Task<SnapshotContent> BuildAsync(Tx tx, SnapshotBuilder.RoundRef round, Period month, CancellationToken ct)
        => builder.BuildAsync(tx.Connection, tx.Transaction, round, month, ct);

    /// <summary>A new revision of the month, as a draft.</summary>
    internal Task<SnapshotRow> InsertAsync(Tx tx, NewRevision revision, CancellationToken ct)
        => tx.QuerySingleAsync<SnapshotRow>(InsertSql, new
        {
            revision.RoundId, period = revision.Month, revision.Revision, revision.Origin, revision.Narrative, content = Serialize(revision.Content),
            revision.Hash, revision.Reason, revision.By, revision.Now,
        }, ct);

    /// <summary>
    /// Rewrites draft <paramref name="id"/> as pushed, only where it differs (apart from when its content was read); null when it does not.
    /// </summary>
    internal Task<SnapshotRow?> UpdateDraftAsync(Tx tx, long id, NewRevision draft, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<SnapshotRow>(UpdateDraftSql, new
        {
            id, content = Serialize(draft.Content), draft.Narrative, draft.Hash, draft.Reason, draft.By, draft.Now,
        }, ct);

    internal Task<SnapshotRow> PublishAsync(Tx tx, long id, string by, DateTime now, CancellationToken ct)
        => tx.QuerySingleAsync<SnapshotRow>(PublishSql, new { id, by, now }, ct);

    /// <summary>The measures' current progress, state, latest note and latest day reported, for the push's progress lines.</summary>
    public async Task<IReadOnlyDictionary<long, MeasureProgressState>> MeasureStatesAsync(Tx tx, IEnumerable<long> ids, CancellationToken ct)
        => (await tx.QueryAsync<MeasureProgressState>(MeasuresSql, new { ids = ids.ToArray() }, ct)).ToDictionary(m => m.Id);

    /// <summary>A stored revision as the API answers it.</summary>
    internal SnapshotResponse Represent(SnapshotRow row) => row.ToResponse(json.Value.SerializerOptions);

    /// <summary>The ETag of a revision: its number and version. A draft's moves with every change, a published revision's never again.</summary>
    public static string Tag(int revision, int version) => $"\"{revision}.{version}\"";

    string Serialize(SnapshotContent content) => JsonSerializer.Serialize(content, json.Value.SerializerOptions);

    const string ExistsSql = "SELECT EXISTS (SELECT 1 FROM snapshots WHERE round_id = @roundId AND period = @period)";

    /// <summary>Serialises every write of one round's month: two pushes, or a push and a publish, never interleave.</summary>
    const string MonthLockSql = "SELECT pg_advisory_xact_lock(1397641300, hashtext(@roundId::text || '/' || @period))";

    const string Columns = """
        s.id, r.code AS round, s.period, s.revision, s.status, s.origin, s.narrative, s.reason, s.content::text AS content, s.push_hash,
        s.created_by, s.created_at, s.updated_by, s.updated_at, s.published_by, s.published_at, s.version
        """;

    const string Found = """
        FROM snapshots s JOIN rounds r ON r.id = s.round_id
        WHERE r.code = @round AND s.period = @period
          AND (@revision::int IS NULL OR s.revision = @revision)
          AND (NOT @publishedOnly OR s.status = 'published')
        ORDER BY s.revision DESC
        LIMIT 1
        """;

    const string FindSql = $"SELECT {Columns}\n{Found}";

    const string FindTagSql = $"SELECT s.revision, s.status, s.version\n{Found}";

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
               s.completion_rate
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
            SELECT DISTINCT ON (s.period) s.period, s.revision, s.status, s.completion_rate
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

    /// <summary>A revision to write: a new one (<see cref="InsertAsync"/>) or a draft rewritten (<see cref="UpdateDraftAsync"/>).</summary>
    internal sealed record NewRevision(long RoundId, Period Month, int Revision, string Origin, string? Narrative, SnapshotContent Content,
        byte[]? Hash, string? Reason, string By, DateTime Now);

    /// <summary>What a progress line of a push is compared with.</summary>
    public sealed class MeasureProgressState
    {
        public long Id { get; init; }
        public long RoundId { get; init; }
        public decimal Progress { get; init; }
        public string State { get; init; } = "";
        public string? LatestNote { get; init; }
        public DateOnly? LastReportedOn { get; init; }
    }

    internal sealed class SnapshotRow
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
            Round = Round, Period = Period, Revision = Revision, Status = EnumText.Parse<SnapshotStatus>(Status),
            Origin = EnumText.Parse<SnapshotOrigin>(Origin),
            Narrative = Narrative, Reason = Reason, CreatedBy = CreatedBy, CreatedAt = CreatedAt, UpdatedBy = UpdatedBy, UpdatedAt = UpdatedAt,
            PublishedBy = PublishedBy, PublishedAt = PublishedAt,
            Content = JsonSerializer.Deserialize<SnapshotContent>(Content, options)
                ?? throw new InvalidOperationException("A snapshot without content."),
        };
    }
}
