using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;

namespace Rectify.Api.Features.Snapshots;

/// <summary>Compares two frozen states: items are matched by id, so a renamed or re-coded item is still the same one.</summary>
public static class SnapshotDiffer
{
    public static SnapshotDiff Compare(SnapshotResponse older, SnapshotResponse newer)
    {
        var (a, b) = (older.Content, newer.Content);
        var oldIssues = a.Issues.ToDictionary(i => i.Id);
        var oldMeasures = a.Measures.ToDictionary(m => m.Id);
        var newMeasureIds = b.Measures.Select(m => m.Id).ToHashSet();
        var oldIndicators = a.Indicators.ToDictionary(i => i.Code, StringComparer.Ordinal);

        static SnapshotItemRef Ref(SnapshotMeasure m) => new(m.Id, m.Code, m.Title);

        return new SnapshotDiff
        {
            Round = newer.Round, From = older.Period, FromRevision = older.Revision, To = newer.Period, ToRevision = newer.Revision,
            IssueStates = b.Issues
                .Where(i => oldIssues.TryGetValue(i.Id, out var was) && was.State != i.State)
                .Select(i => new StateChange(i.Id, i.Code, i.Title, EnumText.Format(oldIssues[i.Id].State), EnumText.Format(i.State)))
                .ToList(),
            MeasureStates = b.Measures
                .Where(m => oldMeasures.TryGetValue(m.Id, out var was) && (was.State != m.State || was.Progress != m.Progress))
                .Select(m => new StateChange(m.Id, m.Code, m.Title, EnumText.Format(oldMeasures[m.Id].State), EnumText.Format(m.State),
                    oldMeasures[m.Id].Progress, m.Progress))
                .ToList(),
            MeasuresCompleted = b.Measures
                .Where(m => m.State == MeasureState.Done && (!oldMeasures.TryGetValue(m.Id, out var was) || was.State != MeasureState.Done))
                .Select(Ref).ToList(),
            NewlyOverdue = b.Measures
                .Where(m => m.Overdue && (!oldMeasures.TryGetValue(m.Id, out var was) || !was.Overdue))
                .Select(Ref).ToList(),
            MeasuresAdded = b.Measures.Where(m => !oldMeasures.ContainsKey(m.Id)).Select(Ref).ToList(),
            MeasuresRemoved = a.Measures.Where(m => !newMeasureIds.Contains(m.Id)).Select(Ref).ToList(),
            Indicators = b.Indicators
                .Select(i => (Now: i, Was: oldIndicators.GetValueOrDefault(i.Code)))
                .Where(p => p.Was is null || p.Was.Value != p.Now.Value)
                .Select(p => new IndicatorChange(p.Now.Code, p.Now.Name, p.Now.MeasureUnit, p.Was?.Period ?? p.Now.PreviousPeriod, p.Was?.Value,
                    p.Now.Period, p.Now.Value, p.Now.Value is { } to && p.Was?.Value is { } from ? to - from : null))
                .ToList(),
            CompletionRateFrom = a.Summary.CompletionRate,
            CompletionRateTo = b.Summary.CompletionRate,
        };
    }
}
