using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Issues;

/// <summary>open → in_progress → pending_review (申请销号) → closed (已销号); long_term (长期坚持) stays under continuous work.</summary>
public enum IssueState { Open, InProgress, PendingReview, Closed, LongTerm }

/// <summary>
/// The issue state machine. Entering pending_review and closed records who and when, so those two moves are
/// made only through <c>POST …/review</c> and <c>POST …/close</c>; the rest through an update.
/// </summary>
public static class IssueStates
{
    static readonly Dictionary<IssueState, IssueState[]> Next = new()
    {
        [IssueState.Open] = [IssueState.InProgress, IssueState.LongTerm],
        [IssueState.InProgress] = [IssueState.PendingReview, IssueState.LongTerm],
        [IssueState.LongTerm] = [IssueState.InProgress, IssueState.PendingReview],
        [IssueState.PendingReview] = [IssueState.InProgress, IssueState.Closed], // back to work when the review sends it back
        [IssueState.Closed] = [],
    };

    static readonly IssueState[] OnlyByAction = [IssueState.PendingReview, IssueState.Closed];

    public static IReadOnlyList<IssueState> AllowedFrom(IssueState from) => Next[from];

    /// <summary>Refuses a move the state machine does not allow, or one made through the wrong operation, with a 409 naming the allowed moves.</summary>
    public static void EnsureAllowed(IssueState from, IssueState to, bool byAction)
    {
        if (from == to && !byAction) return;
        var allowed = Next[from];
        if (allowed.Contains(to) && (byAction || !OnlyByAction.Contains(to))) return;

        var hint = !byAction && OnlyByAction.Contains(to) && allowed.Contains(to)
            ? $" Use POST /api/v1/issues/{{id}}/{(to == IssueState.Closed ? "close" : "review")} to move it to {Infrastructure.EnumText.Format(to)}."
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
}
