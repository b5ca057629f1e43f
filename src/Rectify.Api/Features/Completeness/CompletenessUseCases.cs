using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Completeness;

/// <summary>
/// Reporting completeness (月提醒): for every monthly indicator and every unit expected to report it, whether a
/// value arrived for the month and whether it arrived by the deadline — what the office chases each month.
/// </summary>
public sealed class CompletenessUseCases(Db db, Clock clock, Caller caller)
{
    public const int MaxMonths = 24;

    /// <summary>The completeness of <paramref name="from"/> to <paramref name="to"/> (inclusive) over the units the caller reads.</summary>
    public async Task<CompletenessResponse> GetAsync(Period from, Period? to, CancellationToken ct)
    {
        var last = to ?? from;
        if (last < from) throw Refuse.Invalid("to", "to must not be before period.");
        var months = new List<Period>();
        for (var p = from; p <= last; p = p.Next())
        {
            months.Add(p);
            if (months.Count > MaxMonths) throw Refuse.Invalid("to", $"At most {MaxMonths} months at a time.");
        }

        var reports = await db.ReadAsync(
            (connection, token) => ExpectedReports.ReadAsync(connection, months, clock, token, caller.ReadableUnits), ct);

        return new CompletenessResponse(from.ToString(), last.ToString(), ExpectedReports.Totals("all", reports),
            reports.GroupBy(r => r.Unit).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => ExpectedReports.Totals(g.Key, g)).ToList(),
            reports.GroupBy(r => r.Indicator).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => ExpectedReports.Totals(g.Key, g)).ToList(),
            reports);
    }
}

/// <summary>
/// The rules of an expected report — its deadline is the indicator's reporting day of the following month, and it is on
/// time when it arrived by the end of that day in the configured time zone — for the completeness view and the snapshot.
/// </summary>
public static class ExpectedReports
{
    /// <summary>
    /// Every expected report of the months (of the units under <paramref name="readable"/> and the
    /// <paramref name="indicators"/> named; null: all): reported or not, on time or late.
    /// </summary>
    public static async Task<IReadOnlyList<ExpectedReport>> ReadAsync(System.Data.IDbConnection connection, IEnumerable<Period> months, Clock clock,
        CancellationToken ct, string[]? readable = null, string[]? indicators = null)
        => (await CompletenessRepository.ReadAsync(connection, months, readable, indicators, ct)).Select(r =>
        {
            var next = r.Period.Next();
            DateOnly? deadline = r.ReportingDay is { } day ? new DateOnly(next.Year, next.Index, day) : null;
            bool? onTime = r.ReportedAt is { } at && deadline is { } lastDay ? at < clock.StartOfDayUtc(lastDay.AddDays(1)) : null;
            return new ExpectedReport(r.Indicator, r.Unit, r.Period.ToString(), deadline, r.ReportedAt is not null, r.ReportedAt, onTime);
        }).ToList();

    public static CompletenessTotals Totals(string key, IEnumerable<ExpectedReport> group)
    {
        var list = group.ToList();
        return new CompletenessTotals(key, list.Count, list.Count(r => r.Reported), list.Count(r => r.OnTime == true),
            list.Count(r => r.OnTime == false),
            list.Count(r => !r.Reported));
    }
}
