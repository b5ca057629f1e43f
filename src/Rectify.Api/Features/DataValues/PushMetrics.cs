using System.Diagnostics;
using Rectify.Api.Infrastructure.Http;
using Rectify.Api.Infrastructure.Problems;
using Rectify.Api.Infrastructure.Telemetry;

namespace Rectify.Api.Features.DataValues;

/// <summary>
/// Records each data-value push from what its endpoint answered (the <see cref="ImportSummary"/> of the public contract,
/// in a 200 or in the 422 problem of a refused atomic push), so that the import's own code carries no telemetry.
/// </summary>
public static class PushMetrics
{
    /// <summary>Counts the endpoint's pushes and their rows by outcome and times them (see <see cref="RectifyMetrics"/>).</summary>
    public static RouteHandlerBuilder WithPushMetrics(this RouteHandlerBuilder builder) => builder.AddEndpointFilter(async (context, next) =>
    {
        var http = context.HttpContext;
        var metrics = http.RequestServices.GetRequiredService<RectifyMetrics>();
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await next(context);
            var summary = (result as IValueHttpResult)?.Value as ImportSummary;
            var outcome = http.Response.Headers.ContainsKey(IdempotentCreates.ReplayedHeader) ? "replayed"
                : summary is null ? "failed"
                : summary.DryRun ? "dry-run"
                : summary.Applied ? "applied"
                : "not-applied";
            metrics.Pushed(outcome, Stopwatch.GetElapsedTime(started), outcome is "applied" or "not-applied" ? Rows(summary!) : null);
            return result;
        }
        catch (ProblemException refused) when (refused.Extensions.TryGetValue("summary", out var value) && value is ImportSummary summary)
        {
            metrics.Pushed("refused", Stopwatch.GetElapsedTime(started), Rows(summary));
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.Pushed("failed", Stopwatch.GetElapsedTime(started), null);
            throw;
        }
    });

    static PushRows Rows(ImportSummary summary) => new(summary.Inserted, summary.Updated, summary.Unchanged, summary.Deleted, summary.Rejected);
}
