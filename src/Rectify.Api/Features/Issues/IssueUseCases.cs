using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Issues;

/// <summary>
/// What can be done with issues, and the rules: the state machine, the review's separation of duties, sign-off only
/// when nothing blocks it, the lead unit's scope, the journal, the clock and the transaction. A create runs on the
/// transaction it is given (the idempotency key's); the rest open their own.
/// </summary>
public sealed class IssueUseCases(Db db, IssueRepository issues, MeasureRepository measures, Journal.JournalWriter journal, Clock clock, Caller caller)
{
    public Task<Page<IssueResponse>> ListAsync(IssueListQuery query, CancellationToken ct)
        => issues.ListAsync(query, MeasureDay.Of(clock), caller.ReadableUnits, ct);

    public IAsyncEnumerable<IssueResponse> ExportAsync(IssueListQuery query, CancellationToken ct)
        => issues.ExportAsync(query, MeasureDay.Of(clock), caller.ReadableUnits, ct);

    /// <summary>One issue with its sub-issues and measures (those the caller may read); 404 when it does not exist or the caller may not read it.</summary>
    public async Task<(IssueResponse Issue, int Version)> GetAsync(long id, CancellationToken ct)
    {
        var readable = caller.ReadableUnits;
        var (issue, version) = await issues.FindAsync(id, MeasureDay.Of(clock), readable, ct) ?? throw Refuse.NotFound("issue", id);
        return (issue, version);
    }

    public async Task<(IssueResponse Issue, int Version)> CreateAsync(Tx tx, CreateIssueRequest request, CancellationToken ct)
    {
        var place = await issues.PlacementAsync(tx, request.Round, request.ParentId, ct)
            ?? throw Refuse.DoesNotFit("round", $"No round '{request.Round}' exists.");
        if (request.ParentId is not null && place.ParentRoundId != place.RoundId)
            throw Refuse.DoesNotFit("parentId", $"No issue {request.ParentId} exists in round '{request.Round}'.");
        await UnitScope.EnsureMayWriteAsync(tx, caller, request.LeadUnit, "The new issue's lead", ct);

        var created = await issues.InsertAsync(tx, request, place.RoundId, MeasureDay.Of(clock), clock.UtcNow, ct);
        await journal.RecordAsync(tx, "issue", created.Id, "create", null, created.ToResponse(), ct);
        return (created.ToResponse(), created.Version);
    }

    public Task<(IssueResponse Issue, int Version)> UpdateAsync(long id, UpdateIssueRequest request, int? expectedVersion, CancellationToken ct)
        => ChangeAsync(id, expectedVersion, "update", async (tx, before, token) =>
        {
            IssueStates.EnsureAllowed(before.StateValue, request.State, byAction: false);
            Deadlines.DeadlineUseCases.EnsureUpdateKeeps("issue", "issues", id, before.DueDate, request.DueDate);
            // Sending a pending_review issue back to work is the review's answer, as closing is.
            if (before.StateValue == IssueState.PendingReview && request.State != IssueState.PendingReview) EnsureMayDecide(before, "send it back");
            if (request.LeadUnit != before.LeadUnitCode)
                await UnitScope.EnsureMayWriteAsync(tx, caller, request.LeadUnit, $"The new lead of issue {id}", token);
            return await issues.UpdateAsync(tx, id, request, MeasureDay.Of(clock), clock.UtcNow, token);
        }, ct);

    public Task<(IssueResponse Issue, int Version)> RequestReviewAsync(long id, ReviewIssueRequest request, int? expectedVersion, CancellationToken ct)
        => ChangeAsync(id, expectedVersion, "review", (tx, before, token) =>
        {
            IssueStates.EnsureAllowed(before.StateValue, IssueState.PendingReview, byAction: true);
            return issues.RequestReviewAsync(tx, id, request.Note, caller.Name, MeasureDay.Of(clock), clock.UtcNow, token);
        }, ct);

    public Task<(IssueResponse Issue, int Version)> CloseAsync(long id, CloseIssueRequest request, int? expectedVersion, CancellationToken ct)
        => ChangeAsync(id, expectedVersion, "close", async (tx, before, token) =>
        {
            IssueStates.EnsureAllowed(before.StateValue, IssueState.Closed, byAction: true);
            EnsureMayDecide(before, "sign it off");
            if (request.ClosedOn > clock.Today) throw Refuse.Invalid("closedOn", "closedOn cannot be in the future.");
            await EnsureNothingBlocksClosingAsync(tx, id, token);
            return await issues.CloseAsync(tx, id, request, MeasureDay.Of(clock), clock.UtcNow, token);
        }, ct);

    /// <summary>
    /// Locks the issue, checks its version and that the caller's units lead it, applies <paramref name="change"/>
    /// (its rules, then its statement), and journals before and after, in one transaction.
    /// </summary>
    Task<(IssueResponse Issue, int Version)> ChangeAsync(
        long id, int? expectedVersion, string action, Func<Tx, IssueRow, CancellationToken, Task<IssueRow>> change, CancellationToken ct)
        => db.WriteAsync(async (tx, token) =>
        {
            var before = Versions.Expect(await issues.LockAsync(tx, id, MeasureDay.Of(clock), token), expectedVersion, "issue", id);
            // An issue is its lead unit's: owning one of its measures lets a unit report on that measure, not change the issue.
            await UnitScope.EnsureMayWriteAsync(tx, caller, before.LeadUnitCode, $"Issue {id}", token);
            var after = await change(tx, before, token);
            await journal.RecordAsync(tx, "issue", id, action, before.ToResponse(), after.ToResponse(), token);
            return (after.ToResponse(), after.Version);
        }, ct);

    /// <summary>
    /// The review's decisions (sign-off, sending back) need the review scope and someone other than the client that
    /// asked for the review: the unit that did the work asks, another decides.
    /// </summary>
    void EnsureMayDecide(IssueRow issue, string decision)
    {
        if (!caller.Holds(Scopes.Review))
            throw Refuse.Forbidden($"To {decision} is the review's decision: this key lacks the scope '{Scopes.Review}' that it needs.");
        if (issue.ReviewRequestedBy == caller.Name)
            throw new Refusal(RefusalKind.Forbidden, ProblemTypes.SeparationOfDuties, "A client cannot decide on its own request",
                $"Client '{caller.Name}' asked for this issue's sign-off; another client with the scope '{Scopes.Review}' must {decision}.");
    }

    /// <summary>销号 needs every measure done or cancelled (with its reason) and every sub-issue closed.</summary>
    async Task EnsureNothingBlocksClosingAsync(Tx tx, long id, CancellationToken ct)
    {
        var blockingMeasures = await measures.BlockingClosingAsync(tx, id, ct);
        var subIssues = await issues.OpenSubIssuesAsync(tx, id, ct);
        if (blockingMeasures.Count == 0 && subIssues.Count == 0) return;
        throw new Refusal(RefusalKind.Conflict, ProblemTypes.ClosingBlocked, "The issue cannot be closed yet",
            $"{blockingMeasures.Count} measure(s) are neither done nor cancelled and {subIssues.Count} sub-issue(s) are not closed.",
            new Dictionary<string, object?> { ["blockingMeasures"] = blockingMeasures, ["blockingSubIssues"] = subIssues });
    }
}
