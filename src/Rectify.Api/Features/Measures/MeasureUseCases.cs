using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Measures;

/// <summary>
/// What can be done with measures, and the rules: the state machine, progress that only moves forward, no change
/// under a closed issue, the caller's units, the journal, the clock and the transaction. Creates and progress run on
/// the transaction they are given (the idempotency key's, or the snapshot push's); the rest open their own.
/// </summary>
public sealed class MeasureUseCases(Db db, MeasureRepository measures, Journal.JournalWriter journal, Clock clock, Caller caller,
    ReadCache cache)
{
    MeasureDay Day => MeasureDay.Of(clock);

    /// <summary>A page of measures, as JSON (kept by the read cache).</summary>
    public async Task<KeptJson> ListAsync(MeasureListQuery query, CancellationToken ct)
        => (await cache.GetOrReadJsonAsync<Page<MeasureResponse>>(Key("measures", query),
            async token => (await measures.ListAsync(query, Day, caller.ReadableUnits, token), null), ct))!;

    public IAsyncEnumerable<MeasureResponse> ExportAsync(MeasureListQuery query, CancellationToken ct)
        => measures.ExportAsync(query, Day, caller.ReadableUnits, ct);

    /// <summary>One measure with its progress entries and evidence; 404 when it does not exist or the caller may not read it.</summary>
    public async Task<KeptJson> GetAsync(long id, CancellationToken ct)
        => await cache.GetOrReadJsonAsync<MeasureResponse>(Key("measure", id),
            async token => await measures.FindAsync(id, Day, caller.ReadableUnits, token) is var (measure, version) ? (measure, version) : null, ct)
            ?? throw Refuse.NotFound("measure", id);

    ReadCacheKey Key(string read, object arguments) => new(read, arguments, caller.ReadableUnits, clock.Today);

    public async Task<(MeasureResponse Measure, int Version)> CreateAsync(Tx tx, CreateMeasureRequest request, CancellationToken ct)
    {
        EnsureDatesConsistent(request);
        var issue = await measures.LockIssueStateAsync(tx, request.IssueId, ct)
            ?? throw Refuse.DoesNotFit("issueId", $"No issue {request.IssueId} exists.");
        issue.EnsureOpen();
        await UnitScope.EnsureMayWriteAsync(tx, caller, request.OwnerUnit, "The new measure", ct);
        var created = await measures.InsertAsync(tx, request, Day, clock.UtcNow, ct);
        await journal.RecordAsync(tx, "measure", created.Id, "create", null, created.ToResponse(), ct);
        return (created.ToResponse(), created.Version);
    }

    public Task<(MeasureResponse Measure, int Version)> UpdateAsync(long id, UpdateMeasureRequest request, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            EnsureDatesConsistent(request);
            var before = await LockAsync(tx, id, expectedVersion, token);
            Deadlines.DeadlineUseCases.EnsureUpdateKeeps("measure", "measures", id, before.DueDate, request.DueDate);
            if (request.OwnerUnit != before.OwnerUnitCode)
                await UnitScope.EnsureMayWriteAsync(tx, caller, request.OwnerUnit, $"The new owner of measure {id}", token);
            MeasureStates.EnsureAllowed(before.StateValue, request.State);
            if (request.State == MeasureState.Cancelled && string.IsNullOrWhiteSpace(request.CancelReason))
                throw Refuse.Invalid("cancelReason", "A cancelled measure needs a cancelReason.");
            var after = await measures.UpdateAsync(tx, id, request, Day, clock.UtcNow, token);
            await journal.RecordAsync(tx, "measure", id, "update", before.ToResponse(), after.ToResponse(), token);
            return (after.ToResponse(), after.Version);
        }, ct);

    public async Task<(ProgressEntryResponse Entry, int Version)> AddProgressAsync(Tx tx, long id, AddProgressRequest request, int? expectedVersion,
        CancellationToken ct)
        => (await AddProgressAsync(tx, [new ProgressLine(id, request)], expectedVersion, ct))[0];

    /// <summary>
    /// Adds a progress entry to each measure of <paramref name="lines"/> (each measure once), in as many statements for
    /// fifty lines as for one: the measures are locked in one, checked here in the order of the lines, moved forward with
    /// their entries in one, read back in one and journalled in one. The first line refused refuses them all; a 403 names
    /// every measure outside the caller's units. <paramref name="expectedVersion"/> applies to a single line.
    /// </summary>
    public async Task<IReadOnlyList<(ProgressEntryResponse Entry, int Version)>> AddProgressAsync(Tx tx, IReadOnlyList<ProgressLine> lines,
        int? expectedVersion, CancellationToken ct)
    {
        if (lines.Count == 0) return [];
        var day = Day;
        var ids = lines.Select(l => l.MeasureId).ToArray();
        var before = await measures.LockManyAsync(tx, ids, day, ct);
        foreach (var line in lines) Versions.Expect(before.GetValueOrDefault(line.MeasureId), expectedVersion, "measure", line.MeasureId);
        await EnsureMayWriteAsync(tx, lines.Select(l => before[l.MeasureId]).ToList(), ct);
        foreach (var (id, request) in lines)
        {
            var measure = before[id];
            measure.EnsureIssueOpen();
            if (measure.StateValue is MeasureState.Done or MeasureState.Cancelled)
                throw Refuse.Conflict($"The measure is {measure.State}: reopen it (state in_progress or planned) before reporting progress.");
            if (request.ReportedOn > day.Today) throw Refuse.Invalid("reportedOn", "reportedOn cannot be in the future.");
            if (request.Percent < measure.Progress)
                throw Refuse.DoesNotFit("percent", $"Progress only moves forward: the measure is at {measure.Progress:0.##}%.");
        }

        var entries = await measures.AddProgressAsync(tx, lines, caller.Name, clock.UtcNow, ct);
        var after = await measures.ReadManyAsync(tx, ids, day, ct);
        await journal.RecordAllAsync(tx, "measure", "progress",
            lines.Select(l => ((object)l.MeasureId, (object?)before[l.MeasureId].ToResponse(), (object?)after[l.MeasureId].ToResponse()))
                .ToList(), ct);
        return lines.Select((l, i) => (entries[i], after[l.MeasureId].Version)).ToList();
    }

    public async Task<EvidenceResponse> AddEvidenceAsync(Tx tx, long id, AddEvidenceRequest request, CancellationToken ct)
    {
        var measure = await LockAsync(tx, id, expectedVersion: null, ct);
        var evidence = await measures.AddEvidenceAsync(tx, id, request, caller.Name, clock.UtcNow, ct);
        await journal.RecordAsync(tx, "measure", measure.Id, "evidence", null, evidence, ct);
        return evidence;
    }

    /// <summary>Locks the measure, checks the version and the caller's units, and refuses changes under a closed (signed-off) issue.</summary>
    async Task<MeasureRow> LockAsync(Tx tx, long id, int? expectedVersion, CancellationToken ct)
    {
        var row = Versions.Expect(await measures.LockAsync(tx, id, Day, ct), expectedVersion, "measure", id);
        await UnitScope.EnsureMayWriteAsync(tx, caller, row.OwnerUnitCode, $"Measure {id}", ct);
        row.EnsureIssueOpen();
        return row;
    }

    /// <summary>
    /// 403 unless every measure of <paramref name="rows"/> is owned by one of the caller's units or one below; it names those that are not.
    /// </summary>
    async Task EnsureMayWriteAsync(Tx tx, IReadOnlyList<MeasureRow> rows, CancellationToken ct)
    {
        if (caller.Units is not { } allowed) return;
        if (rows.Count == 1)
        {
            await UnitScope.EnsureMayWriteAsync(tx, caller, rows[0].OwnerUnitCode, $"Measure {rows[0].Id}", ct);
            return;
        }
        var outside = (await UnitScope.OutsideAsync(tx, caller, rows.Select(r => r.OwnerUnitCode), ct)).ToHashSet(StringComparer.Ordinal);
        var refused = rows.Where(r => outside.Contains(r.OwnerUnitCode)).Select(r => $"measure {r.Id} (unit '{r.OwnerUnitCode}')").ToList();
        if (refused.Count > 0)
            throw Refuse.Forbidden(
                $"These measures belong to units outside the units this client may write for ({string.Join(", ", allowed)}): {string.Join(", ",
                    refused.Take(20))}.");
    }

    /// <summary>
    /// The rule the database checks too (measures_due_after_start), tested here so that the caller gets a 400 naming
    /// dueDate, like every other field rule, rather than a 422 from the constraint.
    /// </summary>
    static void EnsureDatesConsistent(MeasureFields fields)
    {
        if (fields.StartDate is { } start && fields.DueDate < start)
            throw Refuse.Invalid("dueDate", "dueDate must not be before startDate.");
    }
}
