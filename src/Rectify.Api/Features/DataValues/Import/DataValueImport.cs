using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
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
    /// <summary>Most bytes the parts of an xlsx push may expand to (a zip bomb is refused before it is read).</summary>
    public long MaxWorkbookExpandedBytes { get; set; } = 2L * 1024 * 1024 * 1024;
}

public enum ImportFormat { Csv, Json, Xlsx }

/// <summary>Problems a push answers from more than one place.</summary>
static class ImportProblems
{
    public static ProblemException TooManyRows(long max) => new(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge,
        "Too many rows", $"A push may hold at most {max} rows: split it into several pushes.");
}

/// <summary>A push as the endpoint read it from the request: the body's format and the options of the query string.</summary>
/// <param name="Sheet">xlsx: the sheet to read (null: the first).</param>
/// <param name="Translate">Says a message template in the caller's language (null: English); the rejected rows are said with it.</param>
public sealed record ImportCommand(
    ImportFormat Format, ImportStrategy Strategy, bool Atomic, bool DryRun, string? RevisionReason, string? Sheet = null,
    Func<string, string>? Translate = null);

/// <summary>What became of a push; the endpoint answers it.</summary>
public abstract record ImportResult
{
    /// <summary>Applied, a dry run, or not atomic (even when no row was good: a non-atomic push lands its good rows, however few).</summary>
    public sealed record Done(ImportSummary Summary) : ImportResult;

    /// <summary>An atomic push with rejected rows: nothing was written.</summary>
    public sealed record Refused(ImportSummary Summary) : ImportResult;

    /// <summary>The Idempotency-Key answered before: the receipt holds the first answer.</summary>
    public sealed record Replayed : ImportResult;

    /// <summary>More rows than a push may hold; reading stopped there.</summary>
    public sealed record TooManyRows(long Max) : ImportResult;
}

/// <summary>
/// Keeps a push's answer under its Idempotency-Key, in the push's own transaction. The endpoint supplies it (the key,
/// the request's hash and the replayed answer are HTTP); the import calls it where its transaction needs it.
/// </summary>
public interface IImportReceipt
{
    /// <summary>
    /// Claims the key: true when it answered before (the push stops and the first answer is replayed). <paramref name="summary"/>
    /// is this body's summary as checked, which the refusal of a key reused with another body carries.
    /// </summary>
    Task<bool> ReplayedAsync(Tx tx, ImportSummary summary, CancellationToken ct);

    /// <summary>Stores the answer of an applied push under the claimed key.</summary>
    Task StoreAsync(Tx tx, ImportSummary summary, CancellationToken ct);
}

/// <summary>
/// The monthly push: rows stream in (CSV or JSON), are checked in memory against the catalogue and spooled to a
/// temporary file; then, in one transaction, they are copied (binary COPY) into a staging table and merged with
/// one set-based statement (<see cref="DataValueMerge"/>). Pushes are serialised by an advisory lock so that counts
/// are exact and two pushes over the same keys end as one or the other, never a mix.
/// </summary>
public sealed class DataValueImport(Db db, Caller caller, Clock clock, Journal.JournalWriter journal,
    IOptions<ImportOptions> options, IOptions<JsonOptions> json, ILogger<DataValueImport> logger)
{
    /// <summary>
    /// Reads <paramref name="body"/> to its end, checks and spools its rows, then stages, checks against the database
    /// and merges them in one transaction (or only counts them, for a dry run). With a <paramref name="receipt"/> the
    /// answer is kept under the push's Idempotency-Key in that transaction.
    /// </summary>
    public async Task<ImportResult> RunAsync(ImportCommand command, Stream body, IImportReceipt? receipt, CancellationToken ct)
    {
        var settings = options.Value;
        var (strategy, atomic, dryRun) = (command.Strategy, command.Atomic, command.DryRun);
        var revising = !string.IsNullOrWhiteSpace(command.RevisionReason);
        var translate = command.Translate ?? (static template => template);

        var catalogue = await ImportCatalogue.LoadAsync(db, caller, ct);
        var importId = Guid.NewGuid();
        var rejections = new Rejections(settings.MaxReportedErrors);
        await using var spool = ImportSpool.Create();

        // The whole body is read and checked before the database is touched (see ImportSpool).
        long received = 0;
        var rows = command.Format switch
        {
            ImportFormat.Csv => ImportReaders.ReadCsvAsync(body, ct),
            ImportFormat.Xlsx => ImportWorkbook.ReadAsync(body, new WorkbookLimits(command.Sheet, strategy == ImportStrategy.Delete,
                settings.MaxRows, settings.MaxWorkbookExpandedBytes), ct),
            _ => ImportReaders.ReadJsonAsync(body, json.Value.SerializerOptions, ct),
        };
        await foreach (var raw in rows)
        {
            if (++received > settings.MaxRows) return new ImportResult.TooManyRows(settings.MaxRows);
            var (row, error) = catalogue.Check(raw, strategy);
            if (error is not null) rejections.Add(error);
            else spool.Write(row);
        }

        ImportSummary Summary(bool applied, DataValueCounts counts, Rejections errors) => new()
        {
            ImportId = importId, DryRun = dryRun, Strategy = strategy, Atomic = atomic, Applied = applied, Received = received,
            Inserted = counts.Inserted, Updated = counts.Updated, Unchanged = counts.Unchanged, Deleted = counts.Deleted,
            Rejected = errors.Count, Errors = [.. errors.Listed.Select(e => e.Said(translate))], ErrorsTruncated = errors.Truncated,
        };

        // Nothing can be written: answer without touching data_values. With an Idempotency-Key the key is looked up
        // first, so that the retry of an applied push gets its first answer even if its rows would now be refused
        // (values locked since); the claim is rolled back, so a refused push does not use up its key.
        var nothingToWrite = (atomic && rejections.Count > 0 && !dryRun) || spool.Count == 0;
        if (nothingToWrite && receipt is null) return Answer(Summary(false, default, rejections));

        return await db.BulkAsync<ImportResult>(async (tx, token) =>
        {
            // A refused key carries this body's summary too: every 422 of the push has one (see ImportRejectedProblem).
            if (receipt is not null && !dryRun && await receipt.ReplayedAsync(tx, Summary(false, default, rejections), token))
                return (new ImportResult.Replayed(), false);
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
                summary.Strategy, summary.Atomic, summary.Received, summary.Inserted, summary.Updated, summary.Unchanged, summary.Deleted,
                summary.Rejected, revisionReason = revising ? command.RevisionReason : null,
                contentType = command.Format switch
                {
                    ImportFormat.Csv => "text/csv", ImportFormat.Xlsx => ImportWorkbook.MediaType, _ => "application/json",
                },
            }, token);
            if (receipt is not null) await receipt.StoreAsync(tx, summary, token);
            logger.LogInformation("Push {ImportId} by {Caller}: {Received} received, {Inserted} inserted, {Updated} updated, "
                + "{Unchanged} unchanged, {Deleted} deleted, {Rejected} rejected", importId, caller.Name,
                summary.Received, summary.Inserted, summary.Updated, summary.Unchanged, summary.Deleted, summary.Rejected);
            return (new ImportResult.Done(summary), true);
        }, ct);
    }

    /// <summary>
    /// Done when the push was applied, was a dry run or is not atomic (even when no row was good); refused when an
    /// atomic push had rejected rows.
    /// </summary>
    static ImportResult Answer(ImportSummary summary)
        => summary.Applied || summary.DryRun || !summary.Atomic || summary.Rejected == 0
            ? new ImportResult.Done(summary)
            : new ImportResult.Refused(summary);

    /// <summary>
    /// Without a revision reason, values that a published snapshot locks are rejected rows naming the snapshot; they are
    /// removed from staging. Returns how many.
    /// </summary>
    static async Task<int> RejectLockedAsync(Tx tx, Rejections rejections, string[] months, CancellationToken ct)
    {
        var locked = await DataValueMerge.TakeLockedAsync(tx, months, ct);
        foreach (var row in locked) rejections.Add(new RowRejection(row.RowNo, "period", row.Reason));
        return locked.Count;
    }

    /// <summary>create: values that already exist are rejected rows; they are removed from staging. Returns how many.</summary>
    static async Task<int> RejectExistingAsync(Tx tx, Rejections rejections, CancellationToken ct)
    {
        var existing = await DataValueMerge.TakeExistingAsync(tx, ct);
        foreach (var row in existing)
            rejections.Add(new RowRejection(row, "row", "A value for this indicator, unit and period already exists (strategy=create)."));
        return existing.Count;
    }

    /// <summary>Rejected rows: all counted, the first ones by row number listed.</summary>
    sealed class Rejections(int max)
    {
        readonly List<RowRejection> _listed = [];
        bool _sorted = true;

        public long Count { get; private set; }
        public bool Truncated => Count > Math.Min(_listed.Count, max);

        public IReadOnlyList<RowRejection> Listed
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

        public void Add(RowRejection error)
        {
            Count++;
            if (_listed.Count > 0 && error.Row < _listed[^1].Row) _sorted = false;
            // Rows arrive in order from the body; later additions (create conflicts) may be earlier rows, so keep a margin and sort once.
            if (_listed.Count < max * 2) _listed.Add(error);
        }
    }
}
