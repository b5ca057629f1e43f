using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Measures;

public enum MeasureState { Planned, InProgress, Done, Cancelled }

/// <summary>Derived at read time: green on track, yellow unfinished and due soon, red overdue; none for a cancelled measure.</summary>
public enum TrafficLight { Green, Yellow, Red }

public static class MeasureStates
{
    /// <summary>
    /// The derived columns <c>overdue</c> and <c>traffic_light</c> of a measure row <c>m</c>, from <c>@today</c> and
    /// <c>@dueSoon</c> (the last day on which an unfinished measure is only due soon). Every read of a measure uses it.
    /// </summary>
    internal const string DerivedColumns = """
        (m.state NOT IN ('done', 'cancelled') AND m.due_date < @today) AS overdue,
        CASE WHEN m.state = 'cancelled' THEN NULL
             WHEN m.state = 'done' THEN 'green'
             WHEN m.due_date < @today THEN 'red'
             WHEN m.due_date <= @dueSoon THEN 'yellow'
             ELSE 'green' END AS traffic_light
        """;

    static readonly Dictionary<MeasureState, MeasureState[]> Next = new()
    {
        [MeasureState.Planned] = [MeasureState.InProgress, MeasureState.Done, MeasureState.Cancelled],
        [MeasureState.InProgress] = [MeasureState.Done, MeasureState.Cancelled],
        [MeasureState.Done] = [MeasureState.InProgress],       // reopened when the review finds it incomplete
        [MeasureState.Cancelled] = [MeasureState.Planned],     // revived
    };

    public static IReadOnlyList<MeasureState> AllowedFrom(MeasureState from) => Next[from];

    public static void EnsureAllowed(MeasureState from, MeasureState to)
    {
        if (from == to || Next[from].Contains(to)) return;
        throw new Refusal(RefusalKind.Conflict, ProblemTypes.InvalidTransition, "Transition not allowed",
            $"A measure in state {EnumText.Format(from)} cannot move to {EnumText.Format(to)}.",
            new Dictionary<string, object?>
            {
                ["from"] = EnumText.Format(from),
                ["to"] = EnumText.Format(to),
                ["allowed"] = Next[from].Select(EnumText.Format).ToArray(),
            });
    }
}
