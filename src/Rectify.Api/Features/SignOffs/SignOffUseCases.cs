using System.Text.Json;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.SignOffs;

/// <summary>
/// The review (审议 / 销号) and its rules: the unit that did the work submits an issue for sign-off with the evidence it
/// rests on; another client with the scope review decides (separation of duties); accepting closes the issue only when
/// nothing blocks it, and may start consolidation (巩固); a closed issue is frozen until reopened. Evidence entries are
/// reviewed one by one (整改一项、审议一项). Every step is journaled; the database announces it (webhooks, change feed).
/// </summary>
public sealed class SignOffUseCases(Db db, SignOffRepository signOffs, IssueRepository issues, MeasureRepository measures,
    Journal.JournalWriter journal, Clock clock, Caller caller)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    MeasureDay Day => MeasureDay.Of(clock);

    /// <summary>Every submission of the issue with its decision, oldest first; 404 when it does not exist or the caller may not read it.</summary>
    public async Task<IReadOnlyList<SignOffResponse>> ListAsync(long issueId, CancellationToken ct)
        => (await signOffs.ListAsync(issueId, caller.ReadableUnits, ct) ?? throw Refuse.NotFound("issue", issueId))
            .Select(r => r.ToResponse()).ToList();

    /// <summary>Submits the issue for sign-off (申请销号) and moves it to pending_review; the submission and the issue's new version.</summary>
    public async Task<(SignOffResponse SignOff, int Version)> SubmitAsync(Tx tx, long issueId, SubmitSignOffRequest request, int? expectedVersion,
        CancellationToken ct)
    {
        var (signOff, issue) = await SubmitCoreAsync(tx, issueId, request.Summary, request.Summary, request.Evidence ?? [], expectedVersion, ct);
        return (signOff, issue.Version);
    }

    /// <summary>POST …/review: a submission without evidence, answered with the issue (kept for clients written before sign-offs).</summary>
    public Task<(IssueResponse Issue, int Version)> RequestReviewAsync(long issueId, string? note, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var (_, issue) = await SubmitCoreAsync(tx, issueId, string.IsNullOrWhiteSpace(note) ? "申请销号" : note, note, [], expectedVersion, token);
            return (issue.ToResponse(), issue.Version);
        }, ct);

    async Task<(SignOffResponse SignOff, IssueRow Issue)> SubmitCoreAsync(Tx tx, long issueId, string summary, string? note,
        IReadOnlyList<SignOffEvidence> evidence, int? expectedVersion, CancellationToken ct)
    {
        var before = await LockIssueAsync(tx, issueId, expectedVersion, ct);
        IssueStates.EnsureAllowed(before.StateValue, IssueState.PendingReview, byAction: true);
        if (string.IsNullOrWhiteSpace(summary)) throw Refuse.Invalid("summary", "summary must say what was done.");
        var ids = evidence.Select(e => e.EvidenceId).ToArray();
        if (ids.Distinct().Count() != ids.Length) throw Refuse.Invalid("evidence", "Each evidence entry is named once.");
        var foreign = await signOffs.ForeignEvidenceAsync(tx, issueId, ids, ct);
        if (foreign.Length > 0)
            throw Refuse.DoesNotFit("evidence", $"Evidence {string.Join(", ", foreign)} is not an evidence entry of a measure of issue {issueId}.");
        if (await signOffs.MissingFileVersionsAsync(tx, evidence, ct) is [var (missingEntry, missingVersion), ..])
            throw Refuse.DoesNotFit("evidence", $"Evidence {missingEntry} has no file version {missingVersion}.");

        var submitted = (await signOffs.SubmitAsync(tx, issueId, summary, JsonSerializer.Serialize(evidence, Json), caller.Name, clock.UtcNow, ct))
            .ToResponse();
        var after = await issues.RequestReviewAsync(tx, issueId, note, caller.Name, Day, clock.UtcNow, ct);
        await journal.RecordAsync(tx, "issue", issueId, "sign-off-submitted", before.ToResponse(), 
            new SignOffJournal(after.ToResponse(), submitted), ct);
        return (submitted, after);
    }

    /// <summary>
    /// The review's decision on a pending submission: accept closes the issue (when nothing blocks it), reject and
    /// request_changes send it back to in_progress. The decided submission and the issue's new version.
    /// </summary>
    public Task<(SignOffResponse SignOff, int Version)> DecideAsync(long issueId, long signOffId, DecideSignOffRequest request, int? expectedVersion,
        CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            EnsureReviewer();
            var before = await LockIssueAsync(tx, issueId, expectedVersion, token);
            var signOff = await signOffs.LockAsync(tx, issueId, signOffId, token) ?? throw Refuse.NotFound("sign-off", signOffId);
            EnsureNotOwn(signOff.SubmittedBy,
                $"Client '{caller.Name}' submitted sign-off {signOffId}; another client with the scope '{Scopes.Review}' decides on it.");
            if (signOff.StatusValue != SignOffStatus.Pending)
                throw Refuse.Conflict(
                    $"Sign-off {signOffId} is {signOff.Status}: a submission is decided once. Submit the issue again to have it reviewed.");
            if (string.IsNullOrWhiteSpace(request.Comment)) throw Refuse.Invalid("comment", "comment must give the review's reasons.");
            var accept = request.Decision == SignOffDecision.Accept;
            if (request.WatchUntil is { } watch && (!accept || watch < clock.Today))
                throw Refuse.Invalid("watchUntil", "watchUntil goes with accept only, and not before today.");
            IssueStates.EnsureAllowed(before.StateValue, accept ? IssueState.Closed : IssueState.InProgress, byAction: true);
            if (accept) await EnsureNothingBlocksClosingAsync(tx, issueId, token);

            var status = request.Decision switch
            {
                SignOffDecision.Accept => SignOffStatus.Accepted,
                SignOffDecision.Reject => SignOffStatus.Rejected,
                _ => SignOffStatus.ChangesRequested,
            };
            var decided = (await signOffs.DecideAsync(tx, signOffId, status, caller.Name, request.Comment, request.WatchUntil, clock.UtcNow, token))
                .ToResponse();
            var after = accept
                ? await issues.CloseAsync(tx, issueId, caller.Name, request.Comment, request.WatchUntil, Day, clock.UtcNow, token)
                : await issues.ReturnToWorkAsync(tx, issueId, Day, clock.UtcNow, token);
            await journal.RecordAsync(tx, "issue", issueId, "sign-off-decided", before.ToResponse(), 
                new SignOffJournal(after.ToResponse(), decided), token);
            return (decided, after.Version);
        }, ct);

    /// <summary>Reopens a closed issue (back to in_progress, its closure cleared; the sign-offs stay listed), with the reason journaled.</summary>
    public Task<(IssueResponse Issue, int Version)> ReopenAsync(long issueId, ReopenIssueRequest request, int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            EnsureReviewer();
            var before = await LockIssueAsync(tx, issueId, expectedVersion, token, frozenToo: true);
            if (before.StateValue != IssueState.Closed)
                throw Refuse.Conflict($"Issue {issueId} is {before.State}, not closed: only a signed-off issue is reopened.");
            if (string.IsNullOrWhiteSpace(request.Reason)) throw Refuse.Invalid("reason", "reason must say why the issue is reopened.");
            var after = await issues.ReturnToWorkAsync(tx, issueId, Day, clock.UtcNow, token);
            await journal.RecordAsync(tx, "issue", issueId, "reopen", before.ToResponse(), 
                new { issue = after.ToResponse(), reason = request.Reason }, token);
            return (after.ToResponse(), after.Version);
        }, ct);

    /// <summary>
    /// The review of one evidence entry (整改一项、审议一项): accepted or rejected with a comment, by another client than
    /// the one that recorded it. The entry and the measure's new version.
    /// </summary>
    public Task<(EvidenceResponse Evidence, int Version)> DecideEvidenceAsync(long measureId, long evidenceId, DecideEvidenceRequest request,
        int? expectedVersion, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            EnsureReviewer();
            var measure = Versions.Expect(await measures.LockAsync(tx, measureId, Day, token), expectedVersion, "measure", measureId);
            await UnitScope.EnsureMayWriteAsync(tx, caller, measure.OwnerUnitCode, $"Measure {measureId}", token);
            measure.EnsureIssueOpen();
            var evidence = await signOffs.LockEvidenceAsync(tx, measureId, evidenceId, token) ?? throw Refuse.NotFound("evidence", evidenceId);
            EnsureNotOwn(evidence.RecordedBy,
                $"Client '{caller.Name}' recorded evidence {evidenceId}; another client with the scope '{Scopes.Review}' decides on it.");
            if (string.IsNullOrWhiteSpace(request.Comment)) throw Refuse.Invalid("comment", "comment must give the review's reasons.");

            var decided = await signOffs.DecideEvidenceAsync(tx, measureId, evidenceId, request.Decision, caller.Name, request.Comment,
                clock.UtcNow, token);
            await journal.RecordAsync(tx, "measure", measureId, "evidence-decided", null, decided, token);
            return (decided, measure.Version + 1);
        }, ct);

    /// <summary>The review's decisions need the scope review (the endpoints require it; work outside a request is checked here).</summary>
    void EnsureReviewer()
    {
        if (!caller.Holds(Scopes.Review))
            throw Refuse.Forbidden($"Deciding is the review's: this caller lacks the scope '{Scopes.Review}' that it needs.");
    }

    /// <summary>Locks the issue, checks its version and that the caller's units lead it, and (unless reopening) that it is not frozen.</summary>
    async Task<IssueRow> LockIssueAsync(Tx tx, long id, int? expectedVersion, CancellationToken ct, bool frozenToo = false)
    {
        var issue = Versions.Expect(await issues.LockAsync(tx, id, Day, ct), expectedVersion, "issue", id);
        await UnitScope.EnsureMayWriteAsync(tx, caller, issue.LeadUnitCode, $"Issue {id}", ct);
        if (!frozenToo) IssueStates.EnsureOpen(id, issue.State, issue.ClosedOn, issue.Reviewer);
        return issue;
    }

    /// <summary>Separation of duties: the client that submitted (or recorded) something does not decide on it.</summary>
    void EnsureNotOwn(string submittedBy, Text detail)
    {
        if (submittedBy == caller.Name)
            throw new Refusal(RefusalKind.Forbidden, ProblemTypes.SeparationOfDuties, ProblemTypes.Title(ProblemTypes.SeparationOfDuties)!, detail);
    }

    /// <summary>
    /// 销号 needs every measure done or cancelled (with its reason), every sub-issue closed and an accepted evidence entry
    /// for every done measure; the refusal lists each blocker.
    /// </summary>
    async Task EnsureNothingBlocksClosingAsync(Tx tx, long id, CancellationToken ct)
    {
        var blockingMeasures = await measures.BlockingClosingAsync(tx, id, ct);
        var subIssues = await issues.OpenSubIssuesAsync(tx, id, ct);
        var unproven = await measures.WithoutAcceptedEvidenceAsync(tx, id, ct);
        if (blockingMeasures.Count == 0 && subIssues.Count == 0 && unproven.Count == 0) return;
        throw new Refusal(RefusalKind.Conflict, ProblemTypes.ClosingBlocked, ProblemTypes.Title(ProblemTypes.ClosingBlocked)!,
            new Text("{0} measure(s) are neither done nor cancelled, {1} sub-issue(s) are not closed and {2} done measure(s) "
                + "have no accepted evidence.",
                blockingMeasures.Count, subIssues.Count, unproven.Count),
            new Dictionary<string, object?>
            {
                ["blockingMeasures"] = blockingMeasures, ["blockingSubIssues"] = subIssues, ["measuresWithoutAcceptedEvidence"] = unproven,
            });
    }
}
