using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Measures;

public enum MeasureState { Planned, InProgress, Done, Cancelled }

/// <summary>Derived at read time: green on track, yellow unfinished and due soon, red overdue; none for a cancelled measure.</summary>
public enum TrafficLight { Green, Yellow, Red }

public static class MeasureStates
{
    /// <summary>
    /// The derived columns <c>overdue</c>, <c>traffic_light</c> and <c>warning_level</c> of a measure row <c>m</c>, from
    /// <c>@today</c>, <c>@dueSoon</c> and <c>@notice</c> (see <see cref="MeasureDay"/>), all three from the one warning level
    /// (<see cref="Warnings.WarningLevels"/>). Every read of a measure uses it.
    /// </summary>
    internal const string DerivedColumns = $"""
        coalesce({Warnings.WarningLevels.Measure} = 'red', false) AS overdue,
        {Warnings.WarningLevels.MeasureLight} AS traffic_light,
        {Warnings.WarningLevels.Measure} AS warning_level
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
