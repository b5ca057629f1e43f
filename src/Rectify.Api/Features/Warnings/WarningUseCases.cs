using Microsoft.Extensions.Options;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Features.Snapshots;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;

namespace Rectify.Api.Features.Warnings;

/// <summary>
/// Warnings (提醒预警): a round's items at a level now, each with who it escalates to, and the dated level changes of one
/// item. The caller's readable units limit what is listed; an item the caller may not read is a 404 as everywhere.
/// </summary>
public sealed class WarningUseCases(WarningRepository warnings, MeasureUseCases measures, IssueUseCases issues, Clock clock, Caller caller,
    IOptions<WarningOptions> options)
{
    public async Task<RoundWarningsResponse> RoundAsync(string round, RoundWarningsQuery query, CancellationToken ct)
    {
        var day = MeasureDay.Of(clock);
        var rows = await warnings.CurrentAsync(round, query, day, caller.ReadableUnits, ct) ?? throw Refuse.NotFound("round", round);
        var items = rows.Select(r => Item(r, day.Today)).ToList();
        var names = rows.Where(r => r.OwnerUnit is not null).GroupBy(r => r.OwnerUnit!).ToDictionary(g => g.Key, g => g.First().OwnerUnitName);
        return new RoundWarningsResponse
        {
            Round = round, AsOf = day.Today, YellowUntil = day.DueSoon, NoticeUntil = day.Notice,
            ByLevel = WarningCounts.Of(items.Select(i => (WarningLevel?)i.Level)),
            ByOwnerUnit = items.Where(i => i.OwnerUnit is not null).GroupBy(i => i.OwnerUnit!).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g =>
                {
                    var counts = WarningCounts.Of(g.Select(i => (WarningLevel?)i.Level));
                    return new UnitWarnings(g.Key, names.GetValueOrDefault(g.Key), counts.Notice, counts.Yellow, counts.Red);
                }).ToList(),
            Items = items,
        };
    }

    /// <summary>The recorded level changes of a measure, oldest first; 404 when it does not exist or the caller may not read it.</summary>
    public async Task<IReadOnlyList<WarningChangeResponse>> MeasureChangesAsync(long id, CancellationToken ct)
    {
        await measures.GetAsync(id, ct);
        return await warnings.ChangesAsync(WarningItemKind.Measure, id, ct);
    }

    /// <summary>The recorded level changes of an issue, oldest first; 404 when it does not exist or the caller may not read it.</summary>
    public async Task<IReadOnlyList<WarningChangeResponse>> IssueChangesAsync(long id, CancellationToken ct)
    {
        await issues.GetAsync(id, ct);
        return await warnings.ChangesAsync(WarningItemKind.Issue, id, ct);
    }

    WarningItem Item(WarningItemRow row, DateOnly today)
    {
        var level = row.LevelValue ?? throw new InvalidOperationException("Only items at a level are listed.");
        var (to, target) = options.Value.Escalation.For(level, row.OwnerUnit, row.LeadUnit, row.ResponsibleLeader);
        var due = row.DueDate ?? throw new InvalidOperationException("An item at a level has a due date.");
        return new WarningItem
        {
            Kind = EnumText.Parse<WarningItemKind>(row.Kind), Id = row.Id, Code = row.Code, IssueId = row.IssueId, IssueCode = row.IssueCode,
            Title = row.Title, OwnerUnit = row.OwnerUnit, LeadUnit = row.LeadUnit, ResponsibleLeader = row.ResponsibleLeader, State = row.State,
            DueDate = due, DaysLeft = due.DayNumber - today.DayNumber, Level = level,
            Since = row.LastLevel == row.Level ? row.LastChangedOn : null, EscalateTo = to, EscalationTarget = target,
        };
    }
}
