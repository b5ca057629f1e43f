using System.Globalization;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Deadlines;

/// <summary>
/// Moving a due date (完成时限调整), and the rules: a due date moves only here, with a reason, within the caller's units,
/// never on a signed-off issue or a finished measure; each move is kept, journaled and announced (deadline.changed, by
/// the database in the same transaction). A move to a later date is a deferral (延期) and counts; an earlier one is kept
/// but does not count. The moves run on the transaction they are given (the idempotency key's).
/// </summary>
public sealed class DeadlineUseCases(DeadlineRepository deadlines, IssueRepository issues, MeasureRepository measures,
    Journal.JournalWriter journal, Clock clock, Caller caller)
{
    /// <summary>Moves the issue's due date; the change and the issue's new version.</summary>
    public async Task<(DeadlineChangeResponse Change, int Version)> MoveIssueAsync(Tx tx, long id, ChangeDeadlineRequest request,
        int? expectedVersion,
        CancellationToken ct)
    {
        EnsureReason(request);
        var issue = Versions.Expect(await issues.LockAsync(tx, id, MeasureDay.Of(clock), ct), expectedVersion, "issue", id);
        await UnitScope.EnsureMayWriteAsync(tx, caller, issue.LeadUnitCode, $"Issue {id}", ct);
        IssueStates.EnsureOpen(id, issue.State, issue.ClosedOn, issue.Reviewer);
        EnsureMoves("issue", issue.DueDate, request.DueDate);

        var change = await deadlines.MoveIssueAsync(tx, id, request, caller.Name, clock.UtcNow, ct);
        var after = await issues.ReadInAsync(tx, id, MeasureDay.Of(clock), ct);
        await journal.RecordAsync(tx, "issue", id, "deadline", null, change, ct);
        return (change, after.Version);
    }

    /// <summary>Moves the measure's due date; the change and the measure's new version.</summary>
    public async Task<(DeadlineChangeResponse Change, int Version)> MoveMeasureAsync(Tx tx, long id, ChangeDeadlineRequest request,
        int? expectedVersion,
        CancellationToken ct)
    {
        EnsureReason(request);
        var day = MeasureDay.Of(clock);
        var measure = Versions.Expect(await measures.LockAsync(tx, id, day, ct), expectedVersion, "measure", id);
        await UnitScope.EnsureMayWriteAsync(tx, caller, measure.OwnerUnitCode, $"Measure {id}", ct);
        measure.EnsureIssueOpen();
        if (measure.StateValue is MeasureState.Done or MeasureState.Cancelled)
            throw Refuse.Conflict($"The measure is {measure.State}: its due date no longer moves (reopen it first).");
        if (measure.StartDate is { } start && request.DueDate < start)
            throw Refuse.Invalid("dueDate", "dueDate must not be before startDate.");
        EnsureMoves("measure", measure.DueDate, request.DueDate);

        var change = await deadlines.MoveMeasureAsync(tx, id, request, caller.Name, clock.UtcNow, ct);
        var after = await measures.ReadInAsync(tx, id, day, ct);
        await journal.RecordAsync(tx, "measure", id, "deadline", null, change, ct);
        return (change, after.Version);
    }

    /// <summary>The moves of the issue's due date, oldest first; 404 when it does not exist or the caller may not read it.</summary>
    public async Task<IReadOnlyList<DeadlineChangeResponse>> ListForIssueAsync(long id, CancellationToken ct)
        => await deadlines.ListForIssueAsync(id, caller.ReadableUnits, ct) ?? throw Refuse.NotFound("issue", id);

    /// <summary>The moves of the measure's due date, oldest first; 404 when it does not exist or the caller may not read it.</summary>
    public async Task<IReadOnlyList<DeadlineChangeResponse>> ListForMeasureAsync(long id, CancellationToken ct)
        => await deadlines.ListForMeasureAsync(id, caller.ReadableUnits, ct) ?? throw Refuse.NotFound("measure", id);

    /// <summary>
    /// Refuses an update (PUT) that would move a due date, naming the endpoint that does: a due date never moves without
    /// its reason on record. Giving an issue its first due date moves nothing and is an ordinary update.
    /// </summary>
    public static void EnsureUpdateKeeps(string item, string resource, long id, DateOnly? current, DateOnly? requested)
    {
        if (current is null || requested == current) return;
        throw new Refusal(RefusalKind.Conflict, ProblemTypes.DeadlineChangeRequired, ProblemTypes.Title(ProblemTypes.DeadlineChangeRequired)!,
            new Text("The {0} is due {1}; an update cannot change that (it asked for {2}). "
                + "Move it with POST /api/v1/{3}/{4}/deadline (dueDate and reason), and send updates with the dueDate unchanged.",
                item, Date(current), Date(requested), resource, id));
    }

    static void EnsureReason(ChangeDeadlineRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Reason)) throw Refuse.Invalid("reason", "reason must say why the due date moves.");
    }

    static void EnsureMoves(string item, DateOnly? current, DateOnly requested)
    {
        if (current == requested)
            throw Refuse.DoesNotFit("dueDate", $"The {item} is already due {Date(requested)}: nothing moves.");
    }

    static string Date(DateOnly? day) => day?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "no due date";
}
