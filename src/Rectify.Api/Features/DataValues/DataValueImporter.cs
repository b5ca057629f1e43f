using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
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

        ImportSummary Summary(bool applied, DataValueCounts counts, Rejections errors) => new()
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
            await DataValueMerge.AcquirePushLockAsync(tx, settings.LockWait, token);

            // A retried attempt starts again from the body's rejections.
            var errors = rejections.Copy();
            await DataValueMerge.StageAsync(tx, spool.Rows(), spool.Count, token);
            var staged = spool.Count;
            if (!revising) staged -= await RejectLockedAsync(tx, errors, catalogue.LockingMonths(), token);
            if (strategy == ImportStrategy.Create) staged -= await RejectExistingAsync(tx, errors, token);
            var refused = atomic && errors.Count > 0;
            var counts = refused && !dryRun ? default
                : dryRun ? await DataValueMerge.PreviewAsync(tx, strategy, token)
                : await DataValueMerge.ApplyAsync(tx, strategy, staged, caller.Name, clock.UtcNow, token);
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

    /// <summary>
    /// Without a revision reason, values that a published snapshot locks are rejected rows naming the snapshot; they are
    /// removed from staging. Returns how many.
    /// </summary>
    static async Task<int> RejectLockedAsync(Tx tx, Rejections rejections, string[] months, CancellationToken ct)
    {
        var locked = await DataValueMerge.TakeLockedAsync(tx, months, ct);
        foreach (var row in locked) rejections.Add(new RowError(row.RowNo, "period", row.Message));
        return locked.Count;
    }

    /// <summary>create: values that already exist are rejected rows; they are removed from staging. Returns how many.</summary>
    static async Task<int> RejectExistingAsync(Tx tx, Rejections rejections, CancellationToken ct)
    {
        var existing = await DataValueMerge.TakeExistingAsync(tx, ct);
        foreach (var row in existing)
            rejections.Add(new RowError(row, "row", "A value for this indicator, unit and period already exists (strategy=create)."));
        return existing.Count;
    }

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
}
