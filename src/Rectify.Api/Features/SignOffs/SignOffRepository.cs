using Dapper;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.SignOffs;

/// <summary>
/// The SQL of sign-off submissions, their decisions and the decisions on evidence entries: one round trip per method,
/// on the transaction given (writes) or one pooled connection (reads). The rules are <see cref="SignOffUseCases"/>'.
/// </summary>
public sealed class SignOffRepository(Db db)
{
    /// <summary>Every submission of the issue, oldest first; null when the issue does not exist or <paramref name="readable"/> hides it.</summary>
    internal Task<List<SignOffRow>?> ListAsync(long issueId, string[]? readable, CancellationToken ct)
        => db.ReadAsync<List<SignOffRow>?>(async (connection, token) =>
        {
            var args = new { id = issueId, readable };
            if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(VisibleSql, args, cancellationToken: token))) return null;
            return (await connection.QueryAsync<SignOffRow>(new CommandDefinition(ListSql, args, cancellationToken: token))).AsList();
        }, ct);

    /// <summary>The ids of <paramref name="evidenceIds"/> that are not evidence entries of the issue's measures.</summary>
    internal async Task<long[]> ForeignEvidenceAsync(Tx tx, long issueId, long[] evidenceIds, CancellationToken ct)
        => (await tx.QueryAsync<long>(ForeignEvidenceSql, new { issueId, ids = evidenceIds }, ct)).ToArray();

    /// <summary>The named file versions that do not exist: (evidence id, version) pairs, in the order named.</summary>
    internal async Task<(long EvidenceId, int Version)[]> MissingFileVersionsAsync(Tx tx, IReadOnlyList<SignOffEvidence> evidence,
        CancellationToken ct)
    {
        var named = evidence.Where(e => e.FileVersion is not null).ToArray();
        if (named.Length == 0) return [];
        var rows = await tx.QueryAsync<(long, int)>(MissingFileVersionsSql,
            new { ids = named.Select(e => e.EvidenceId).ToArray(), versions = named.Select(e => e.FileVersion!.Value).ToArray() }, ct);
        return rows.ToArray();
    }

    /// <summary>Supersedes the issue's undecided submissions and records the new one; the new one.</summary>
    internal Task<SignOffRow> SubmitAsync(Tx tx, long issueId, string summary, string evidenceJson, string by, DateTime now, CancellationToken ct)
        => tx.QuerySingleAsync<SignOffRow>(SubmitSql, new { issueId, summary, evidence = evidenceJson, by, now }, ct);

    /// <summary>The issue's submission, locked for its decision, or null.</summary>
    internal Task<SignOffRow?> LockAsync(Tx tx, long issueId, long id, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<SignOffRow>(LockSql, new { issueId, id }, ct);

    /// <summary>Records the decision on the submission; the submission as it is now.</summary>
    internal Task<SignOffRow> DecideAsync(Tx tx, long id, SignOffStatus status, string by, string comment, DateOnly? watchUntil, DateTime now,
        CancellationToken ct)
        => tx.QuerySingleAsync<SignOffRow>(DecideSql,
            new { id, status = Infrastructure.EnumText.Format(status), by, comment, watchUntil, now }, ct);

    /// <summary>The measure's evidence entry, locked for its decision, or null.</summary>
    internal Task<EvidenceRow?> LockEvidenceAsync(Tx tx, long measureId, long id, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<EvidenceRow>(LockEvidenceSql, new { measureId, id }, ct);

    /// <summary>Records the decision on the evidence entry and moves the measure's version on; the entry as it is now.</summary>
    internal Task<EvidenceResponse> DecideEvidenceAsync(Tx tx, long measureId, long id, EvidenceDecision decision, string by, string comment,
        DateTime now, CancellationToken ct)
        => tx.QuerySingleAsync<EvidenceResponse>(DecideEvidenceSql,
            new { measureId, id, status = Infrastructure.EnumText.Format(decision), by, comment, now }, ct);

    const string Columns = "id, issue_id, summary, evidence::text AS evidence, submitted_by, submitted_at, status, decided_by, decided_at, "
        + "decision_comment, watch_until";

    const string VisibleSql = $"SELECT EXISTS (SELECT 1 FROM issues i WHERE i.id = @id AND {Issues.IssueRepository.Readable})";

    const string ListSql = $"SELECT {Columns} FROM sign_offs WHERE issue_id = @id ORDER BY id";

    const string ForeignEvidenceSql = """
        SELECT x.id FROM unnest(@ids::bigint[]) AS x(id)
        WHERE NOT EXISTS (SELECT 1 FROM measure_evidence e JOIN measures m ON m.id = e.measure_id WHERE e.id = x.id AND m.issue_id = @issueId)
        ORDER BY x.id
        """;

    const string MissingFileVersionsSql = """
        SELECT x.id, x.version FROM unnest(@ids::bigint[], @versions::int[]) WITH ORDINALITY AS x(id, version, n)
        WHERE NOT EXISTS (SELECT 1 FROM evidence_file_versions v WHERE v.evidence_id = x.id AND v.version = x.version)
        ORDER BY x.n
        """;

    const string SubmitSql = $"""
        WITH superseded AS (
            UPDATE sign_offs SET status = 'superseded' WHERE issue_id = @issueId AND status = 'pending'
        )
        INSERT INTO sign_offs (issue_id, summary, evidence, submitted_by, submitted_at)
        VALUES (@issueId, @summary, @evidence::jsonb, @by, @now)
        RETURNING {Columns}
        """;

    const string LockSql = $"SELECT {Columns} FROM sign_offs WHERE issue_id = @issueId AND id = @id FOR UPDATE";

    const string DecideSql = $"""
        UPDATE sign_offs
        SET status = @status, decided_by = @by, decided_at = @now, decision_comment = @comment, watch_until = @watchUntil
        WHERE id = @id
        RETURNING {Columns}
        """;

    const string LockEvidenceSql = "SELECT id, recorded_by FROM measure_evidence WHERE measure_id = @measureId AND id = @id FOR UPDATE";

    const string DecideEvidenceSql = $"""
        WITH touched AS (
            UPDATE measures SET version = version + 1, updated_at = @now WHERE id = @measureId
        )
        UPDATE measure_evidence
        SET status = @status, decided_by = @by, decided_at = @now, decision_comment = @comment
        WHERE id = @id
        RETURNING {MeasureRepository.EvidenceColumns}
        """;
}
