using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.OpenApi;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Reporting;

public sealed record CompletenessQuery
{
    [Description("The month (YYYY-MM), or the first month of a range.")]
    [Required(ErrorMessage = "Name the month: YYYY-MM, e.g. 2025-09.")]
    [Month]
    public string? Period { get; init; }

    [Description("Last month of the range (inclusive); default: period.")]
    [Month]
    public string? To { get; init; }
}

/// <summary>One expected report: an indicator, a unit expected to report it, a month.</summary>
public sealed record ExpectedReport(
    string Indicator, string Unit, string Period,
    [property: Description("Last day to report: reportingDay of the following month (null when the indicator sets none).")]
    DateOnly? Deadline,
    bool Reported,
    [property: Description("When the value first arrived.")]
    DateTime? ReportedAt,
    [property: Description("Reported by the end of the deadline day (in the configured time zone); null when not reported or without a deadline.")]
    bool? OnTime);

public sealed record CompletenessTotals(string Key, int Expected, int Reported, int OnTime, int Late, int Missing);

public sealed record CompletenessResponse(
    string From, string To, CompletenessTotals Overall, IReadOnlyList<CompletenessTotals> ByUnit, IReadOnlyList<CompletenessTotals> ByIndicator,
    IReadOnlyList<ExpectedReport> Reports);

/// <summary>
/// Reporting completeness (月提醒): for every monthly indicator and every unit expected to report it, whether a
/// value arrived for the month and whether it arrived by the deadline — what the office chases each month.
/// </summary>
public static class Completeness
{
    const int MaxMonths = 24;

    public static IEndpointRouteBuilder MapReporting(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/reporting/completeness", Get).RequireScope(Scopes.Read)
            .WithTags("Reporting")
            .WithName("GetReportingCompleteness")
            .WithSummary("Reporting completeness of a month (or months)")
            .WithDescription("For each monthly indicator and each unit expected to report it: reported or missing, on time or late against the indicator's reporting day of the following month; totals per unit and per indicator (expected, reported, on time, late, missing).")
            .ProducesValidationProblem()
            .WithExample(response: Example);
        return routes;
    }

    static async Task<Ok<CompletenessResponse>> Get([AsParameters] CompletenessQuery query, Db db, Clock clock, Infrastructure.Auth.Caller caller, CancellationToken ct)
    {
        var from = Period.TryParse(query.Period, IndicatorFrequency.Monthly) ?? throw Refuse.Invalid("period", Period.MonthMessage);
        var to = query.To is null ? from : Period.TryParse(query.To, IndicatorFrequency.Monthly) ?? throw Refuse.Invalid("to", Period.MonthMessage);
        if (to < from) throw Refuse.Invalid("to", "to must not be before period.");
        var months = new List<Period>();
        for (var p = from; p <= to; p = p.Next())
        {
            months.Add(p);
            if (months.Count > MaxMonths) throw Refuse.Invalid("to", $"At most {MaxMonths} months at a time.");
        }

        var reports = await db.ReadAsync((connection, token) => ReadReportsAsync(connection, months, clock, token, caller.ReadableUnits), ct);

        return TypedResults.Ok(new CompletenessResponse(from.ToString(), to.ToString(), Totals("all", reports),
            reports.GroupBy(r => r.Unit).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Totals(g.Key, g)).ToList(),
            reports.GroupBy(r => r.Indicator).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Totals(g.Key, g)).ToList(),
            reports));
    }

    /// <summary>Every expected report of the months: reported or not, on time or late.</summary>
    internal static async Task<IReadOnlyList<ExpectedReport>> ReadReportsAsync(System.Data.IDbConnection connection, IEnumerable<Period> months, Clock clock,
        CancellationToken ct, string[]? readable = null)
    {
        var rows = await connection.QueryAsync<(string Indicator, string Unit, string Period, short? ReportingDay, DateTime? ReportedAt)>(
            new CommandDefinition(ExpectedSql, new { periods = months.Select(m => m.ToString()).ToArray(), readable }, cancellationToken: ct));
        return rows.Select(r =>
        {
            var month = Period.TryParse(r.Period, IndicatorFrequency.Monthly)!.Value;
            DateOnly? deadline = r.ReportingDay is { } day ? new DateOnly(month.Next().Year, month.Next().Index, day) : null;
            bool? onTime = r.ReportedAt is { } at && deadline is { } last ? at < clock.StartOfDayUtc(last.AddDays(1)) : null;
            return new ExpectedReport(r.Indicator, r.Unit, r.Period, deadline, r.ReportedAt is not null, r.ReportedAt, onTime);
        }).ToList();
    }

    internal static CompletenessTotals Totals(string key, IEnumerable<ExpectedReport> group)
    {
        var list = group.ToList();
        return new CompletenessTotals(key, list.Count, list.Count(r => r.Reported), list.Count(r => r.OnTime == true), list.Count(r => r.OnTime == false),
            list.Count(r => !r.Reported));
    }

    const string ExpectedSql = """
        SELECT i.code, r.unit_code, p.period, i.reporting_day, d.created_at
        FROM indicators i
        JOIN indicator_reporters r ON r.indicator_id = i.id
        CROSS JOIN unnest(@periods::text[]) AS p(period)
        LEFT JOIN data_values d ON d.indicator_id = i.id AND d.unit_code = r.unit_code AND d.period = p.period
        WHERE i.frequency = 'monthly' AND i.value_type <> 'ratio'
          AND (@readable::text[] IS NULL OR r.unit_code IN (SELECT units_under(@readable))) -- see Caller.ReadableUnits
        ORDER BY i.code, r.unit_code, p.period
        """;

    // The demo data's September 2025 (lists cut to the province's lottery and dibao rows; the totals are the whole month's).
    static readonly CompletenessResponse Example = new("2025-09", "2025-09",
        new CompletenessTotals("all", 80, 21, 21, 0, 59),
        [new CompletenessTotals("460000", 63, 19, 19, 0, 44)],
        [new CompletenessTotals("DIBAO-RECIPIENTS", 1, 1, 1, 0, 0), new CompletenessTotals("LOTTERY-SALES", 1, 1, 1, 0, 0)],
        [
            new ExpectedReport("DIBAO-RECIPIENTS", "460000", "2025-09", new DateOnly(2025, 10, 10), true, new DateTime(2025, 10, 1, 1, 0, 0, DateTimeKind.Utc), true),
            new ExpectedReport("LOTTERY-SALES", "460000", "2025-09", new DateOnly(2025, 10, 10), true, new DateTime(2025, 10, 1, 1, 0, 0, DateTimeKind.Utc), true),
        ]);
}
