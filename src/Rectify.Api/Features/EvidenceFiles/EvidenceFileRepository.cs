using System.Buffers.Binary;
using Dapper;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.EvidenceFiles;

/// <summary>The evidence entry a file belongs to, with what the rules need: the measure's owner unit and its issue's state.</summary>
public sealed record EvidenceOwner(long EvidenceId, long MeasureId, string OwnerUnitCode, long IssueId, string IssueState, DateOnly? IssueClosedOn,
    string? IssueReviewer)
{
    public void EnsureIssueOpen() => Issues.IssueStates.EnsureOpen(IssueId, IssueState, IssueClosedOn, IssueReviewer);
}

/// <summary>
/// The SQL of evidence files: version rows (metadata) in evidence_file_versions, bytes in evidence_file_contents,
/// written from a stream and read back in slices (<see cref="StoredFileStream"/>), never as one value in memory.
/// </summary>
/// <remarks><c>readable</c> is the caller's readable units, null for every unit.</remarks>
public sealed class EvidenceFileRepository(Db db)
{
    /// <summary>The evidence entry of the measure, locked (uploads and decisions of one entry take turns), or null.</summary>
    public Task<EvidenceOwner?> LockOwnerAsync(Tx tx, long measureId, long evidenceId, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<EvidenceOwner>($"{OwnerSql} FOR UPDATE OF e", new { measureId, evidenceId }, ct);

    /// <summary>
    /// Adds the next version of the entry's file: its row, then its bytes by binary COPY, the COPY stream written by hand
    /// (header, one tuple of the row id and the bytes copied from the spool, trailer) so that the file goes from disk to
    /// the socket in 64 KiB pieces: no value of the file's size is ever built in memory.
    /// </summary>
    public async Task<FileVersionResponse> InsertAsync(Tx tx, EvidenceOwner owner, EvidenceUpload upload, string by, DateTime now,
        CancellationToken ct)
    {
        var version = await tx.QuerySingleAsync<FileVersionResponse>(InsertSql, new
        {
            owner.EvidenceId, owner.MeasureId, upload.Sha256, size = upload.Size, upload.FileName, contentType = upload.Kind.MediaType, by, now,
        }, ct);
        await using (var copy = await tx.Connection.BeginRawBinaryCopyAsync(CopyContentSql, ct))
        {
            var head = new byte[CopyHeader.Length + 2 + 4 + 8 + 4];
            CopyHeader.CopyTo(head, 0);
            var at = CopyHeader.Length;
            BinaryPrimitives.WriteInt16BigEndian(head.AsSpan(at), 2);
            BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(at + 2), 8);
            BinaryPrimitives.WriteInt64BigEndian(head.AsSpan(at + 6), version.Id);
            BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(at + 14), checked((int)upload.Size));
            await copy.WriteAsync(head, ct);
            await upload.Content().CopyToAsync(copy, 64 * 1024, ct);
            await copy.WriteAsync(CopyTrailer, ct);
        }
        return version;
    }

    /// <summary>PGCOPY signature, flags 0, header extension length 0.</summary>
    static readonly byte[] CopyHeader = [.. "PGCOPY\n"u8, 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];

    static readonly byte[] CopyTrailer = [0xFF, 0xFF];

    /// <summary>Every version of the entry's file, oldest first; null when the entry does not exist for the caller.</summary>
    public Task<IReadOnlyList<FileVersionResponse>?> ListAsync(long measureId, long evidenceId, string[]? readable, CancellationToken ct)
        => db.ReadAsync(async (connection, token) =>
        {
            await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
                $"{ReadableOwnerSql};\n{ListSql}", new { measureId, evidenceId, readable }, cancellationToken: token));
            var owner = await results.ReadSingleOrDefaultAsync<EvidenceOwner>();
            var versions = (await results.ReadAsync<FileVersionResponse>()).AsList();
            return owner is null ? null : (IReadOnlyList<FileVersionResponse>)versions;
        }, ct);

    /// <summary>One version (the latest when <paramref name="version"/> is null), or null.</summary>
    public Task<FileVersionResponse?> FindAsync(long measureId, long evidenceId, int? version, string[]? readable, CancellationToken ct)
        => db.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync<FileVersionResponse>(new CommandDefinition(FindSql,
            new { measureId, evidenceId, version, readable }, cancellationToken: token)), ct);

    /// <summary>One version, locked for a decision, or null.</summary>
    public async Task<FileVersionResponse?> LockVersionAsync(Tx tx, long evidenceId, int version, CancellationToken ct)
        => await tx.QuerySingleOrDefaultAsync<FileVersionResponse>($"{Columns} FROM evidence_file_versions v "
            + "WHERE v.evidence_id = @evidenceId AND v.version = @version FOR UPDATE", new { evidenceId, version }, ct);

    public Task<FileVersionResponse> DecideAsync(Tx tx, long evidenceId, int version, FileDecisionRequest request, string by, DateTime now,
        CancellationToken ct)
        => tx.QuerySingleAsync<FileVersionResponse>(DecideSql, new
        {
            evidenceId, version, status = Infrastructure.EnumText.Format(request.Decision), request.Comment, by, now,
        }, ct);

    /// <summary>A stream of the version's bytes that reads them in slices when asked (see <see cref="StoredFileStream"/>).</summary>
    public Stream Open(long versionId, long size) => new StoredFileStream(db, versionId, size);

    const string Returning = """
        RETURNING id, measure_id, evidence_id, version, sha256, size_bytes AS size, file_name, content_type, status, uploaded_by, uploaded_at,
                  decided_by, decided_at, decision_comment, decided_sha256
        """;

    const string Columns = """
        SELECT v.id, v.measure_id, v.evidence_id, v.version, v.sha256, v.size_bytes AS size, v.file_name, v.content_type, v.status, v.uploaded_by,
               v.uploaded_at, v.decided_by, v.decided_at, v.decision_comment, v.decided_sha256
        """;

    const string OwnerSql = """
        SELECT e.id AS evidence_id, m.id AS measure_id, m.owner_unit_code, i.id AS issue_id, i.state AS issue_state, i.closed_on AS issue_closed_on,
               i.reviewer AS issue_reviewer
        FROM measure_evidence e JOIN measures m ON m.id = e.measure_id JOIN issues i ON i.id = m.issue_id
        WHERE e.id = @evidenceId AND m.id = @measureId
        """;

    const string ReadableOwnerSql = $"{OwnerSql} AND {Measures.MeasureRepository.Readable}";

    const string ListSql = $"""
        {Columns} FROM evidence_file_versions v JOIN measures m ON m.id = v.measure_id
        WHERE v.evidence_id = @evidenceId AND v.measure_id = @measureId AND {Measures.MeasureRepository.Readable}
        ORDER BY v.version
        """;

    const string FindSql = $"""
        {Columns} FROM evidence_file_versions v JOIN measures m ON m.id = v.measure_id
        WHERE v.evidence_id = @evidenceId AND v.measure_id = @measureId AND {Measures.MeasureRepository.Readable}
          AND (@version::integer IS NULL OR v.version = @version)
        ORDER BY v.version DESC LIMIT 1
        """;

    const string InsertSql = $"""
        INSERT INTO evidence_file_versions (evidence_id, measure_id, version, sha256, size_bytes, file_name, content_type, uploaded_by, uploaded_at)
        SELECT @evidenceId, @measureId, coalesce(max(version), 0) + 1, @sha256, @size, @fileName, @contentType, @by, @now
        FROM evidence_file_versions WHERE evidence_id = @evidenceId
        {Returning}
        """;

    const string CopyContentSql = "COPY evidence_file_contents (version_id, content) FROM STDIN (FORMAT BINARY)";

    const string DecideSql = $"""
        UPDATE evidence_file_versions
        SET status = @status, decided_by = @by, decided_at = @now, decision_comment = @comment, decided_sha256 = sha256
        WHERE evidence_id = @evidenceId AND version = @version
        {Returning}
        """;
}
