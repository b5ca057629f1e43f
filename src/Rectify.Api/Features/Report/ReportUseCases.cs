using Microsoft.Extensions.Options;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Rounds;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Report;

/// <summary>
/// A month's progress report, for callers that read every unit. Reads what it is made of — the round, the month's
/// snapshot (the latest published revision, else the latest draft, else a live preview), the completion-rate trend and
/// the key indicators' series — and composes it. Callers without a key see published snapshots only.
/// </summary>
public sealed class ReportUseCases(ReportRepository reports, RoundRepository rounds, SnapshotRepository snapshots, IndicatorSeries series,
    Caller caller, Clock clock)
{
    /// <summary>Charts of indicators beside the completion rate: a page, not a dashboard.</summary>
    public const int MaxKeyIndicators = 4;

    public async Task<ProgressReport> BuildAsync(string round, Period month, CancellationToken ct)
    {
        caller.EnsureReadsEverything("A round's progress report");
        var (found, _) = await rounds.FindAsync(round, ct) ?? throw Refuse.NotFound("round", round);
        if (month > Period.MonthOf(clock.Today))
            throw Refuse.Invalid("period", $"{month} has not begun (today is {clock.Today:yyyy-MM-dd}): there is nothing to report yet.");

        var (content, source, snapshot) = await MonthStateAsync(found.Code, month, ct);
        var trend = await TrendAsync(found.Code, month, content, source, ct);
        var keySeries = await KeySeriesAsync(content, month, ct);
        var codes = content.Measures.Select(m => m.OwnerUnit)
            .Concat(content.Issues.Select(i => i.LeadUnit))
            .Append(found.InspectedUnit)
            .Append(content.Region)
            .OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var names = await reports.UnitNamesAsync(codes, ct);

        return ReportComposer.Compose(new ReportSources
        {
            Month = month,
            Round = found,
            Content = content,
            Source = source,
            Revision = snapshot?.Revision,
            PublishedOn = snapshot?.PublishedAt is { } at ? DateOnly.FromDateTime(clock.ToLocal(at)) : null,
            Narrative = snapshot?.Narrative,
            RevisionReason = snapshot?.Reason,
            TakenAt = clock.ToLocal(content.TakenAt),
            Trend = trend,
            KeySeries = keySeries,
            UnitNames = names,
        });
    }

    async Task<(SnapshotContent Content, ReportSource Source, SnapshotResponse? Snapshot)> MonthStateAsync(string round, Period month,
        CancellationToken ct)
    {
        if (await snapshots.FindAsync(round, month, revision: null, publishedOnly: true, ct) is { } published)
            return (published.Snapshot.Content, ReportSource.Published, published.Snapshot);
        // Drafts and live data are work in progress: only callers with a key may see them.
        if (!caller.IsAuthenticated) throw Refuse.NotFound("published report", $"{round}/{month}");
        if (await snapshots.FindAsync(round, month, revision: null, publishedOnly: false, ct) is { } draft)
            return (draft.Snapshot.Content, ReportSource.Draft, draft.Snapshot);
        return (await snapshots.PreviewAsync(round, month, ct), ReportSource.Preview, null);
    }

    /// <summary>
    /// The completion rate of each month's snapshot, the report's own month taken from what the report shows (a published
    /// revision may have a draft correction above it; a preview has no snapshot at all).
    /// </summary>
    async Task<IReadOnlyList<ReportPoint>> TrendAsync(string round, Period month, SnapshotContent content, ReportSource source, CancellationToken ct)
    {
        // Callers without a key see each month as published, also where a draft correction stands above it.
        var points = (await snapshots.CompletionTrendAsync(round, until: month, publishedOnly: !caller.IsAuthenticated,
                ReportComposer.ChartMonths, ct))
            .Where(p => p.Period != content.Period)
            .Select(p => new ReportPoint(p.Period, p.CompletionRate, p.Status == SnapshotStatus.Published))
            .ToList();
        points.Add(new ReportPoint(content.Period, content.Summary.CompletionRate, source == ReportSource.Published));
        return points;
    }

    /// <summary>
    /// Up to <see cref="MaxKeyIndicators"/> monthly indicators with a figure this month or the month before, those with the
    /// most months of data in the chart's twelve first (a chart of one point says little), then those with a value this
    /// month, then those with a target. Every candidate's series is read to count its months: a report is rendered once
    /// a month, not on a hot path.
    /// </summary>
    async Task<IReadOnlyList<(SnapshotIndicator, SeriesResponse)>> KeySeriesAsync(SnapshotContent content, Period month, CancellationToken ct)
    {
        if (content.Region is null) return [];
        var query = new SeriesQuery { Unit = content.Region, From = month.Back(ReportComposer.ChartMonths - 1).ToString(), To = month.ToString() };
        var candidates = content.Indicators.Where(i => i.Period == content.Period && (i.Value is not null || i.PreviousValue is not null)).ToList();
        // One query ranks the candidates by the months with a value anywhere in the region; only the best few series are
        // then read and ranked exactly, instead of one series per linked indicator on every request.
        var months = await reports.MonthsWithValuesAsync(candidates.Select(c => c.Code).ToArray(), content.Region, query.From, query.To, ct);
        var read = new List<(SnapshotIndicator Indicator, SeriesResponse Series, int Points)>();
        foreach (var indicator in candidates.OrderByDescending(c => months.GetValueOrDefault(c.Code))
            .ThenBy(c => c.Code, StringComparer.Ordinal).Take(MaxKeyIndicators * 2))
        {
            var found = await series.ReadAsync(indicator.Code, query, ct);
            read.Add((indicator, found, found.Points.Count(p => p.Value is not null)));
        }
        return read
            .OrderByDescending(r => r.Points)
            .ThenByDescending(r => r.Indicator.Value is not null)
            .ThenByDescending(r => r.Indicator.TargetValue is not null)
            .ThenBy(r => r.Indicator.Code, StringComparer.Ordinal)
            .Take(MaxKeyIndicators)
            .Select(r => (r.Indicator, r.Series))
            .ToList();
    }
}
