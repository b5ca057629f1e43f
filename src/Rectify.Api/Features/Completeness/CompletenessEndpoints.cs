using Microsoft.AspNetCore.Http.HttpResults;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.OpenApi;

namespace Rectify.Api.Features.Completeness;

/// <summary>GET /api/v1/reporting/completeness: see <see cref="CompletenessUseCases"/>.</summary>
public static class CompletenessEndpoints
{
    public static IEndpointRouteBuilder MapCompleteness(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/reporting/completeness", Get).RequireScope(Scopes.Read)
            .WithTags("Reporting")
            .WithName("GetReportingCompleteness")
            .WithSummary("Reporting completeness of a month (or months)")
            .WithDescription("For each monthly indicator and each unit expected to report it: reported or missing, on time or late against the " +
                "indicator's reporting day of the following month; totals per unit and per indicator (expected, reported, on time, late, missing).")
            .ProducesValidationProblem()
            .WithExample(response: Example);
        return routes;
    }

    // [Required] and [Month] hold period and to to months before the handler runs.
    static async Task<Ok<CompletenessResponse>> Get([AsParameters] CompletenessQuery query, CompletenessUseCases completeness, CancellationToken ct)
        => TypedResults.Ok(await completeness.GetAsync(query.Period!.Value, query.To, ct));

    // The demo data's September 2025 (lists cut to the province's lottery and dibao rows; the totals are the whole month's).
    static readonly CompletenessResponse Example = new("2025-09", "2025-09",
        new CompletenessTotals("all", 80, 21, 21, 0, 59),
        [new CompletenessTotals("460000", 63, 19, 19, 0, 44)],
        [new CompletenessTotals("DIBAO-RECIPIENTS", 1, 1, 1, 0, 0), new CompletenessTotals("LOTTERY-SALES", 1, 1, 1, 0, 0)],
        [
            new ExpectedReport("DIBAO-RECIPIENTS", "460000", "2025-09", new DateOnly(2025, 10, 10), true,
                new DateTime(2025, 10, 1, 1, 0, 0, DateTimeKind.Utc), true),
            new ExpectedReport("LOTTERY-SALES", "460000", "2025-09", new DateOnly(2025, 10, 10), true,
                new DateTime(2025, 10, 1, 1, 0, 0, DateTimeKind.Utc), true),
        ]);
}
