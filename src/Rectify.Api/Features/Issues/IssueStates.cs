using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Issues;

/// <summary>open → in_progress → pending_review (申请销号) → closed (已销号); long_term (长期坚持) stays under continuous work.</summary>
public enum IssueState { Open, InProgress, PendingReview, Closed, LongTerm }

/// <summary>
/// The issue state machine. Entering pending_review and closed records who and when, and leaving pending_review is the
/// review's decision, so those moves are made only through a sign-off submission (<c>POST …/sign-offs</c>) and its
/// decision (<c>POST …/sign-offs/{signOffId}/decision</c>); the rest through an update. A closed issue is frozen until
/// <c>POST …/reopen</c>.
/// </summary>
public static class IssueStates
{
    static readonly Dictionary<IssueState, IssueState[]> Next = new()
    {
        [IssueState.Open] = [IssueState.InProgress, IssueState.LongTerm],
        [IssueState.InProgress] = [IssueState.PendingReview, IssueState.LongTerm],
        [IssueState.LongTerm] = [IssueState.InProgress, IssueState.PendingReview],
        // Back to work when the review rejects the submission or asks for changes; closed when it accepts.
        [IssueState.PendingReview] = [IssueState.InProgress, IssueState.Closed],
        [IssueState.Closed] = [],
    };

    static readonly IssueState[] OnlyByAction = [IssueState.PendingReview, IssueState.Closed];

    public static IReadOnlyList<IssueState> AllowedFrom(IssueState from) => Next[from];

    /// <summary>
    /// Refuses a move the state machine does not allow, or one made through the wrong operation, with a 409 naming the allowed moves.
    /// </summary>
    public static void EnsureAllowed(IssueState from, IssueState to, bool byAction)
    {
        if (from == to && !byAction) return;
        var allowed = Next[from];
        var onlyByAction = OnlyByAction.Contains(to) || from == IssueState.PendingReview;
        if (allowed.Contains(to) && (byAction || !onlyByAction)) return;

        var hint = !byAction && onlyByAction && allowed.Contains(to)
            ? $" Use POST /api/v1/issues/{{id}}/{(to == IssueState.PendingReview ? "sign-offs" : "sign-offs/{signOffId}/decision")} "
              + $"to move it to {Infrastructure.EnumText.Format(to)}."
            : "";
        throw new Refusal(RefusalKind.Conflict, ProblemTypes.InvalidTransition, "Transition not allowed",
            $"An issue in state {Infrastructure.EnumText.Format(from)} cannot move to {Infrastructure.EnumText.Format(to)} this way.{hint}",
            new Dictionary<string, object?>
            {
                ["from"] = Infrastructure.EnumText.Format(from),
                ["to"] = Infrastructure.EnumText.Format(to),
                ["allowed"] = allowed.Select(Infrastructure.EnumText.Format).ToArray(),
            });
    }

    /// <summary>
    /// A closed (signed-off) issue and its measures are frozen: every edit, progress entry, evidence entry, measure and
    /// due-date move under it is a 409 (type issue-closed) naming the closure, until the review reopens it.
    /// </summary>
    public static void EnsureOpen(long issueId, string state, DateOnly? closedOn, string? reviewer)
    {
        if (state != "closed") return;
        throw new Refusal(RefusalKind.Conflict, ProblemTypes.IssueClosed, ProblemTypes.Title(ProblemTypes.IssueClosed)!,
            new Text("Issue {0} was signed off (closed) on {1} by {2}: it and its measures are frozen. "
                + "Reopen it with POST /api/v1/issues/{0}/reopen (scope review, with a reason) before changing it.",
                issueId, closedOn?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) ?? "?", reviewer ?? "?"),
            new Dictionary<string, object?> { ["closedIssue"] = issueId });
    }
}
