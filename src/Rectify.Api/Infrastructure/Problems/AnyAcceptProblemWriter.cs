using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// Writes a problem as <c>application/problem+json</c> whatever the caller's <c>Accept</c> says. ASP.NET Core's own
/// writer declines when <c>Accept</c> names neither JSON nor problem+json (<c>text/html</c>, <c>application/xml</c>):
/// errors then went out without a body, and an exception (a 404 thrown as a <see cref="ProblemException"/>) became
/// a 500 — in Development the developer exception page, with the stack trace, in HTML. Registered after the default
/// writer, so it only takes what that one declines.
/// </summary>
public sealed class AnyAcceptProblemWriter(IOptions<ProblemDetailsOptions> options, IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var details = context.ProblemDetails;
        details.Status ??= http.Response.StatusCode;
        if (string.IsNullOrEmpty(details.Title))
            details.Title = ReasonPhrases.GetReasonPhrase(details.Status.Value) is { Length: > 0 } phrase ? phrase : "Error";
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(http.Response.WriteAsJsonAsync(details, details.GetType(), json.Value.SerializerOptions, "application/problem+json",
            http.RequestAborted));
    }
}
