using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Rectify.Api.Features.Completeness;

public sealed record CompletenessQuery
{
    [Description("The month (YYYY-MM), or the first month of a range.")]
    [Required(ErrorMessage = "Name the month: YYYY-MM, e.g. 2025-09.")]
    [Month]
    public Period? Period { get; init; }

    [Description("Last month of the range (inclusive); default: period.")]
    [Month]
    public Period? To { get; init; }
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
