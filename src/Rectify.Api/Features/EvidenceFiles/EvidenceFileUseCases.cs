using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.EvidenceFiles;

/// <summary>
/// Evidence files (佐证材料) and their rules: uploads within the caller's units (as adding evidence), never under a
/// signed-off issue; each upload a new version, journaled with its hash, size and name (never its bytes); a reviewer
/// decides on a version it did not upload, recording the hash it judged.
/// </summary>
public sealed class EvidenceFileUseCases(Db db, EvidenceFileRepository files, Journal.JournalWriter journal, Clock clock, Caller caller)
{
    /// <summary>The checks an upload must pass, made before its body is read: 404, 403, 409 cost the sender nothing then.</summary>
    public Task EnsureMayUploadAsync(long measureId, long evidenceId, CancellationToken ct)
        => db.WriteAsync(async (tx, token) => await LockOwnerAsync(tx, measureId, evidenceId, token), ct);

    /// <summary>Stores <paramref name="upload"/> as the entry's next version.</summary>
    public Task<FileVersionResponse> UploadAsync(long measureId, long evidenceId, EvidenceUpload upload, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var owner = await LockOwnerAsync(tx, measureId, evidenceId, token);
            var version = await files.InsertAsync(tx, owner, upload, caller.Name, clock.UtcNow, token);
            await journal.RecordAsync(tx, "measure", measureId, "evidence-file", null, version, token);
            return version;
        }, ct);

    /// <summary>Every version of the entry's file, oldest first (none before the first upload); 404 for an entry the caller cannot see.</summary>
    public async Task<IReadOnlyList<FileVersionResponse>> ListAsync(long measureId, long evidenceId, CancellationToken ct)
        => await files.ListAsync(measureId, evidenceId, caller.ReadableUnits, ct) ?? throw NoEvidence(evidenceId);

    /// <summary>One version (the latest when <paramref name="version"/> is null) and its bytes as a stream read on demand.</summary>
    public async Task<(FileVersionResponse Version, Stream Content)> OpenAsync(long measureId, long evidenceId, int? version, CancellationToken ct)
    {
        var found = await files.FindAsync(measureId, evidenceId, version, caller.ReadableUnits, ct)
            ?? throw (version is null ? Refuse.NotFound("file of evidence", evidenceId)
                : Refuse.NotFound($"version of the file of evidence {evidenceId}", version));
        return (found, files.Open(found.Id, found.Size));
    }

    /// <summary>A reviewer's decision on one version: not by the client that uploaded it (403), once (409).</summary>
    public Task<FileVersionResponse> DecideAsync(long measureId, long evidenceId, int version, FileDecisionRequest request, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            await LockOwnerAsync(tx, measureId, evidenceId, token);
            var before = await files.LockVersionAsync(tx, evidenceId, version, token)
                ?? throw Refuse.NotFound($"version of the file of evidence {evidenceId}", version);
            if (before.UploadedBy == caller.Name)
                throw new Refusal(RefusalKind.Forbidden, ProblemTypes.SeparationOfDuties, ProblemTypes.Title(ProblemTypes.SeparationOfDuties)!,
                    new Text("Version {0} was uploaded by this client ({1}): another client with the review scope decides on it.",
                        version, caller.Name));
            if (before.Status != "submitted")
                throw Refuse.Conflict(new Text("Version {0} was already {1} by {2}: upload a new version to have it judged again.",
                    version, before.Status, before.DecidedBy ?? ""));
            if (request.Sha256 is { } judged && !judged.Equals(before.Sha256, StringComparison.OrdinalIgnoreCase))
                throw Refuse.Conflict(new Text("The sha256 sent ({0}) is not that of version {1} ({2}).", judged, version, before.Sha256));
            var after = await files.DecideAsync(tx, evidenceId, version, request, caller.Name, clock.UtcNow, token);
            await journal.RecordAsync(tx, "measure", measureId, "evidence-file-decision", before, after, token);
            return after;
        }, ct);

    /// <summary>The entry, locked: 404 when the measure has no such entry, 403 outside the caller's units, 409 under a closed issue.</summary>
    async Task<EvidenceOwner> LockOwnerAsync(Tx tx, long measureId, long evidenceId, CancellationToken ct)
    {
        var owner = await files.LockOwnerAsync(tx, measureId, evidenceId, ct) ?? throw NoEvidence(evidenceId);
        await UnitScope.EnsureMayWriteAsync(tx, caller, owner.OwnerUnitCode, $"Measure {measureId}", ct);
        owner.EnsureIssueOpen();
        return owner;
    }

    static Refusal NoEvidence(long evidenceId) => Refuse.NotFound("evidence of this measure", evidenceId);
}
