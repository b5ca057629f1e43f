using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Issues;

/// <summary>
/// What can be done with issues, and the rules: the state machine, the freeze of a closed issue, the lead unit's scope,
/// the journal, the clock and the transaction. A create runs on the transaction it is given (the idempotency key's); the
/// rest open their own. The review (submission, decision, reopen) is <see cref="SignOffs.SignOffUseCases"/>'.
/// </summary>
public sealed class IssueUseCases(Db db, IssueRepository issues, Journal.JournalWriter journal, Clock clock, Caller caller, ReadCache cache)
{
    /// <summary>A page of issues, as JSON (kept by the read cache).</summary>
    public async Task<KeptJson> ListAsync(IssueListQuery query, CancellationToken ct)
        => (await cache.GetOrReadJsonAsync<Page<IssueResponse>>(Key("issues", query),
            async token => (await issues.ListAsync(query, MeasureDay.Of(clock), caller.ReadableUnits, token), null), ct))!;

    public IAsyncEnumerable<IssueResponse> ExportAsync(IssueListQuery query, CancellationToken ct)
        => issues.ExportAsync(query, MeasureDay.Of(clock), caller.ReadableUnits, ct);

    /// <summary>
    /// One issue with its sub-issues and measures (those the caller may read); 404 when it does not exist or the caller may not read it.
    /// </summary>
    public async Task<KeptJson> GetAsync(long id, CancellationToken ct)
        => await cache.GetOrReadJsonAsync<IssueResponse>(Key("issue", id),
            async token => await issues.FindAsync(id, MeasureDay.Of(clock), caller.ReadableUnits, token) is var (issue, version)
                ? (issue, version)
                : null, ct) ?? throw Refuse.NotFound("issue", id);

    ReadCacheKey Key(string read, object arguments) => new(read, arguments, caller.ReadableUnits, clock.Today);

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
            IssueStates.EnsureOpen(id, before.State, before.ClosedOn, before.Reviewer);
            IssueStates.EnsureAllowed(before.StateValue, request.State, byAction: false);
            Deadlines.DeadlineUseCases.EnsureUpdateKeeps("issue", "issues", id, before.DueDate, request.DueDate);
            if (request.LeadUnit != before.LeadUnitCode)
                await UnitScope.EnsureMayWriteAsync(tx, caller, request.LeadUnit, $"The new lead of issue {id}", token);
            return await issues.UpdateAsync(tx, id, request, MeasureDay.Of(clock), clock.UtcNow, token);
        }, ct);

    /// <summary>POST …/close is gone: an issue is closed by a reviewer accepting a sign-off submission (separation of duties, evidence).</summary>
    public static Refusal SignOffRequired(long id) => new(RefusalKind.Conflict, ProblemTypes.SignOffRequired,
        ProblemTypes.Title(ProblemTypes.SignOffRequired)!,
        new Text("Issue {0} is closed (销号) only by accepting a sign-off: the unit submits it with POST /api/v1/issues/{0}/sign-offs "
            + "(summary and evidence), and another client with the scope review decides with "
            + "POST /api/v1/issues/{0}/sign-offs/{{signOffId}}/decision.", id));

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
}
