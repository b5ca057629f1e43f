using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.DataValues;

public sealed class ImportOptions
{
    public const string Section = "Rectify:Import";
    /// <summary>Largest push body; the default admits a million CSV rows with room to spare.</summary>
    public long MaxBodyBytes { get; set; } = 512L * 1024 * 1024;
    public long MaxRows { get; set; } = 2_000_000;
    /// <summary>How many rejected rows a summary lists (all are counted).</summary>
    public int MaxReportedErrors { get; set; } = 1000;
    /// <summary>How long a push waits for another push to finish before it is told to retry.</summary>
    public TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The monthly push: rows stream in (CSV or JSON), are checked in memory against the catalogue and spooled to a
/// temporary file; then, in one transaction, they are copied (binary COPY) into a staging table and merged with
/// one set-based statement. Pushes are serialised by an advisory lock so that counts are exact and two pushes
/// over the same keys end as one or the other, never a mix.
/// </summary>
public sealed class DataValueImporter(Db db, Caller caller, Clock clock, Journal.Journal journal, IdempotentCreates idempotency,
    IOptions<ImportOptions> options, IOptions<JsonOptions> json, ILogger<DataValueImporter> logger)
{
    const long PushLock = 0x5245_4354_4946_0003;

    public async Task<IResult> ImportAsync(HttpContext http, ImportQuery query, CancellationToken ct)
    {
        var settings = options.Value;
        var strategy = EnumText.Parse<ImportStrategy>(QueryEnums.Checked<ImportStrategy>(query.Strategy, "strategy") ?? "upsert");
        var atomic = query.Atomic ?? true;
        var dryRun = query.DryRun ?? false;
        var revising = !string.IsNullOrWhiteSpace(query.RevisionReason);
        var key = IdempotentCreates.KeyOf(http);
        var csv = IsCsv(http.Request.ContentType);
        // Kestrel then refuses a declared Content-Length over the cap before reading; the body stream below counts
        // too, for a chunked body and for servers without the feature (the in-memory test server).
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = settings.MaxBodyBytes;

        var catalogue = await ImportCatalogue.LoadAsync(db, caller, ct);
        var importId = Guid.NewGuid();
        var rejections = new Rejections(settings.MaxReportedErrors);
        await using var spool = ImportSpool.Create();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{http.Request.ContentType}\n{http.Request.QueryString}\n"));

        // The whole body is read and checked before the database is touched (see ImportSpool).
        var body = new BodyStream(http.Request.Body, hash, settings.MaxBodyBytes);
        long received = 0;
        var rows = csv ? ImportReaders.ReadCsvAsync(body, ct) : ImportReaders.ReadJsonAsync(body, json.Value.SerializerOptions, ct);
        await foreach (var raw in rows)
        {
            if (++received > settings.MaxRows)
                throw new ProblemException(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "Too many rows",
                    $"A push may hold at most {settings.MaxRows} rows: split it into several pushes.");
            var (row, error) = catalogue.Check(raw, strategy);
            if (error is not null) rejections.Add(error);
            else spool.Write(row);
        }
        var requestHash = hash.GetHashAndReset();

        ImportSummary Summary(bool applied, Counts counts, Rejections errors) => new()
        {
            ImportId = importId, DryRun = dryRun, Strategy = strategy, Atomic = atomic, Applied = applied, Received = received,
            Inserted = counts.Inserted, Updated = counts.Updated, Unchanged = counts.Unchanged, Deleted = counts.Deleted,
            Rejected = errors.Count, Errors = errors.Listed, ErrorsTruncated = errors.Truncated,
        };

        // Nothing can be written: answer without touching data_values. With an Idempotency-Key the key is looked up
        // first, so that the retry of an applied push gets its first answer even if its rows would now be refused
        // (values locked since); the claim is rolled back, so a refused push does not use up its key.
        var nothingToWrite = (atomic && rejections.Count > 0 && !dryRun) || spool.Count == 0;
        if (nothingToWrite && key is null) return Answer(Summary(false, default, rejections));

        var operation = $"POST {http.Request.Path}";
        return await db.BulkAsync(async (tx, token) =>
        {
            // A refused key carries this body's summary too: every 422 of the push has one (see ImportRejectedProblem).
            if (key is not null && !dryRun && await idempotency.ClaimAsync<ImportSummary>(tx, http, key, operation, requestHash, token,
                    new Dictionary<string, object?> { ["summary"] = Summary(false, default, rejections) }) is { } replay)
                return (replay, false);
            if (nothingToWrite) return (Answer(Summary(false, default, rejections)), false);
            await AcquirePushLockAsync(tx, settings.LockWait, token);

            // A retried attempt starts again from the body's rejections.
            var errors = rejections.Copy();
            await StageAsync(tx, spool, token);
            var staged = spool.Count;
            if (!revising) staged -= await RejectLockedAsync(tx, errors, catalogue.LockingMonths(), token);
            if (strategy == ImportStrategy.Create) staged -= await RejectExistingAsync(tx, errors, token);
            var refused = atomic && errors.Count > 0;
            var counts = refused && !dryRun ? default
                : dryRun ? await PreviewAsync(tx, strategy, token)
                : await MergeAsync(tx, strategy, staged, token);
            var applied = !dryRun && !refused && staged > 0;
            var summary = Summary(applied, counts, errors);
            if (!applied) return (Answer(summary), false);

            await journal.RecordAsync(tx, "data-values", importId, "import", null, new
            {
                summary.Strategy, summary.Atomic, summary.Received, summary.Inserted, summary.Updated, summary.Unchanged, summary.Deleted, summary.Rejected,
                revisionReason = revising ? query.RevisionReason : null, contentType = csv ? "text/csv" : "application/json",
            }, token);
            if (key is not null) await idempotency.StoreAsync(tx, key, StatusCodes.Status200OK, null, null, summary, token);
            logger.LogInformation("Push {ImportId} by {Caller}: {Received} received, {Inserted} inserted, {Updated} updated, {Unchanged} unchanged, {Deleted} deleted, {Rejected} rejected",
                importId, caller.Name, summary.Received, summary.Inserted, summary.Updated, summary.Unchanged, summary.Deleted, summary.Rejected);
            return (Answer(summary), true);
        }, ct);
    }

    /// <summary>
    /// Every writer of data_values (pushes, snapshot pushes) holds this transaction lock, so that counts are exact and
    /// two pushes over the same keys end as one or the other. Waiting longer than <paramref name="wait"/> is a 503.
    /// </summary>
    internal static async Task AcquirePushLockAsync(Tx tx, TimeSpan wait, CancellationToken ct)
    {
        await tx.ExecuteAsync($"SET LOCAL lock_timeout = {(int)wait.TotalMilliseconds}", null, ct);
        try
        {
            await tx.ExecuteAsync("SELECT pg_advisory_xact_lock(@lock)", new { @lock = PushLock }, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new ProblemException(StatusCodes.Status503ServiceUnavailable, ProblemTypes.DatabaseUnavailable, "Another push is being applied",
                "Pushes are applied one at a time and the one before this took too long. Retry after the time given in Retry-After.");
        }
        await tx.ExecuteAsync("SET LOCAL lock_timeout = 0", null, ct);
    }

    static bool IsCsv(string? contentType)
    {
        var media = contentType?.Split(';')[0].Trim();
        if (string.Equals(media, "text/csv", StringComparison.OrdinalIgnoreCase)) return true;
        if (string.Equals(media, "application/json", StringComparison.OrdinalIgnoreCase)) return false;
        throw new ProblemException(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType, "Unsupported media type",
            "Send the push as text/csv (header indicator,unit,period,value,comment) or application/json.");
    }

    /// <summary>
    /// 200 with the summary when the push was applied, was a dry run or is not atomic (even when no row was good: a
    /// non-atomic push lands its good rows, however few); a 422 problem carrying the summary when an atomic push was refused.
    /// </summary>
    static IResult Answer(ImportSummary summary)
    {
        if (summary.Applied || summary.DryRun || !summary.Atomic || summary.Rejected == 0) return TypedResults.Ok(summary);
        throw new ProblemException(StatusCodes.Status422UnprocessableEntity, ProblemTypes.ImportRejected, "The push was refused",
            $"{summary.Rejected} of {summary.Received} rows were rejected and the push is atomic, so nothing was written. See summary.errors; fix the rows, or send atomic=false to land the good rows.",
            new Dictionary<string, object?> { ["summary"] = summary });
    }

    static async Task StageAsync(Tx tx, ImportSpool spool, CancellationToken ct)
    {
        await tx.ExecuteAsync(StagingSql, null, ct);
        await using (var copy = await tx.Connection.BeginBinaryImportAsync(
            "COPY push_rows (row_no, indicator_id, unit_code, period, value, comment) FROM STDIN (FORMAT BINARY)", ct))
        {
            // Synchronous writes: they fill Npgsql's buffer and only block when it is sent; the async ones cost an
            // await per field, which dominated the copy of a million rows.
            foreach (var row in spool.Rows())
            {
                ct.ThrowIfCancellationRequested();
                copy.StartRow();
                copy.Write(row.Row, NpgsqlDbType.Bigint);
                copy.Write(row.IndicatorId, NpgsqlDbType.Bigint);
                copy.Write(row.Unit, NpgsqlDbType.Text);
                copy.Write(row.Period, NpgsqlDbType.Text);
                copy.Write(row.Value, NpgsqlDbType.Numeric);
                if (row.Comment is null) copy.WriteNull();
                else copy.Write(row.Comment, NpgsqlDbType.Text);
            }
            await copy.CompleteAsync(ct);
        }
        // Fresh statistics, or the planner joins a million staged rows as if there were a handful.
        if (spool.Count > 1000) await tx.ExecuteAsync("ANALYZE push_rows", null, ct);
    }

    /// <summary>
    /// Without a revision reason, values that a published snapshot locks are rejected rows naming the snapshot; they are
    /// removed from staging. Returns how many.
    /// </summary>
    static async Task<int> RejectLockedAsync(Tx tx, Rejections rejections, string[] months, CancellationToken ct)
    {
        if (months.Length == 0) return 0;
        var locked = (await tx.QueryAsync<ValueLocks.LockedRow>(LockedSql, new { months }, ct)).ToList();
        foreach (var row in locked) rejections.Add(new RowError(row.RowNo, "period", row.Message));
        return locked.Count;
    }

    /// <summary>create: values that already exist are rejected rows; they are removed from staging. Returns how many.</summary>
    static async Task<int> RejectExistingAsync(Tx tx, Rejections rejections, CancellationToken ct)
    {
        var existing = 0;
        foreach (var row in await tx.QueryAsync<long>(ExistingSql, null, ct))
        {
            rejections.Add(new RowError(row, "row", "A value for this indicator, unit and period already exists (strategy=create)."));
            existing++;
        }
        return existing;
    }

    async Task<Counts> MergeAsync(Tx tx, ImportStrategy strategy, long staged, CancellationToken ct)
    {
        var args = new { source = caller.Name, now = clock.UtcNow };
        switch (strategy)
        {
            case ImportStrategy.Delete:
            {
                var deleted = await tx.ExecuteAsync(DeleteSql, args, ct);
                return new Counts(0, 0, staged - deleted, deleted);
            }
            case ImportStrategy.Create:
            {
                var inserted = await tx.ExecuteAsync(InsertNewSql, args, ct);
                return new Counts(inserted, 0, 0, 0);
            }
            default:
            {
                // The preview's classification, under the push lock, is exact; the merge then touches only what differs.
                var counts = await PreviewAsync(tx, strategy, ct);
                var written = await tx.ExecuteAsync(UpsertSql, args, ct);
                if (written != counts.Inserted + counts.Updated)
                    throw new InvalidOperationException($"The merge wrote {written} rows where {counts.Inserted + counts.Updated} differed: a writer bypassed the push lock.");
                return counts;
            }
        }
    }

    static async Task<Counts> PreviewAsync(Tx tx, ImportStrategy strategy, CancellationToken ct)
    {
        var c = await tx.QuerySingleAsync<(long Absent, long Changed, long Same)>(ClassifySql, null, ct);
        return strategy switch
        {
            ImportStrategy.Delete => new Counts(0, 0, c.Absent, c.Changed + c.Same),
            ImportStrategy.Create => new Counts(c.Absent, 0, 0, 0),
            _ => new Counts(c.Absent, c.Changed, c.Same, 0),
        };
    }

    readonly record struct Counts(long Inserted, long Updated, long Unchanged, long Deleted);

    /// <summary>Rejected rows: all counted, the first ones by row number listed.</summary>
    sealed class Rejections(int max)
    {
        readonly List<RowError> _listed = [];
        bool _sorted = true;

        public long Count { get; private set; }
        public bool Truncated => Count > Math.Min(_listed.Count, max);

        public IReadOnlyList<RowError> Listed
        {
            get
            {
                if (!_sorted) _listed.Sort((a, b) => a.Row.CompareTo(b.Row));
                _sorted = true;
                return _listed.Count > max ? _listed.GetRange(0, max) : _listed;
            }
        }

        public Rejections Copy()
        {
            var copy = new Rejections(max) { Count = Count, _sorted = _sorted };
            copy._listed.AddRange(_listed);
            return copy;
        }

        public void Add(RowError error)
        {
            Count++;
            if (_listed.Count > 0 && error.Row < _listed[^1].Row) _sorted = false;
            // Rows arrive in order from the body; later additions (create conflicts) may be earlier rows, so keep a margin and sort once.
            if (_listed.Count < max * 2) _listed.Add(error);
        }
    }

    /// <summary>Passes the body through while hashing it, for the Idempotency-Key check, and counting it against the body cap.</summary>
    sealed class BodyStream(Stream inner, IncrementalHash hash, long maxBytes) : Stream
    {
        long _read;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Passed(buffer.Span, read);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => Passed(buffer.AsSpan(offset, count), inner.Read(buffer, offset, count));

        int Passed(ReadOnlySpan<byte> buffer, int read)
        {
            _read += read;
            if (_read > maxBytes)
                throw new ProblemException(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "The request body is too large",
                    $"A push may be at most {maxBytes} bytes: split it into several pushes.");
            hash.AppendData(buffer[..read]);
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    const string StagingSql = """
        CREATE TEMP TABLE push_rows (
            row_no bigint NOT NULL, indicator_id bigint NOT NULL, unit_code text NOT NULL, period text NOT NULL,
            value numeric NOT NULL, comment text
        ) ON COMMIT DROP
        """;

    const string Match = "d.indicator_id = s.indicator_id AND d.unit_code = s.unit_code AND d.period = s.period";

    const string ClassifySql = $"""
        SELECT count(*) FILTER (WHERE d.indicator_id IS NULL) AS absent,
               count(*) FILTER (WHERE d.indicator_id IS NOT NULL AND (d.value, d.comment) IS DISTINCT FROM (s.value, s.comment)) AS changed,
               count(*) FILTER (WHERE d.indicator_id IS NOT NULL AND (d.value, d.comment) IS NOT DISTINCT FROM (s.value, s.comment)) AS same
        FROM push_rows s LEFT JOIN data_values d ON {Match}
        """;

    const string ExistingSql = $"""
        WITH existing AS (DELETE FROM push_rows s USING data_values d WHERE {Match} RETURNING s.row_no)
        SELECT row_no FROM existing ORDER BY row_no
        """;

    // Data-modifying CTEs run whether or not the final SELECT reads them.
    static readonly string LockedSql = $"""
        {ValueLocks.LockedCtes("push_rows")},
        gone AS (DELETE FROM push_rows s USING locked l WHERE s.row_no = l.row_no)
        SELECT {ValueLocks.Columns} FROM locked ORDER BY row_no
        """;

    const string UpsertSql = """
        INSERT INTO data_values AS d (indicator_id, unit_code, period, value, comment, source, created_at, updated_at)
        SELECT indicator_id, unit_code, period, value, comment, @source, @now, @now FROM push_rows
        ON CONFLICT (indicator_id, unit_code, period) DO UPDATE
        SET value = EXCLUDED.value, comment = EXCLUDED.comment, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
        WHERE (d.value, d.comment) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.comment)
        """;

    const string InsertNewSql = """
        INSERT INTO data_values (indicator_id, unit_code, period, value, comment, source, created_at, updated_at)
        SELECT indicator_id, unit_code, period, value, comment, @source, @now, @now FROM push_rows
        """;

    const string DeleteSql = $"""
        WITH gone AS (
            DELETE FROM data_values d USING push_rows s WHERE {Match}
            RETURNING d.indicator_id, d.unit_code, d.period, d.value
        )
        INSERT INTO data_value_deletions (indicator_code, unit_code, period, value, deleted_by, deleted_at)
        SELECT i.code, g.unit_code, g.period, g.value, @source, @now FROM gone g JOIN indicators i ON i.id = g.indicator_id
        """;
}
