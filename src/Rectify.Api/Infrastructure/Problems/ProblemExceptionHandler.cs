using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Npgsql;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// Maps every exception to a problem. Nothing from an exception's message, stack or SQL reaches the caller
/// except what is written here for that purpose; the full exception goes to the log with the trace id.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is OperationCanceledException && http.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is nobody to answer. 499 marks it in the logs.
            http.Response.StatusCode = 499;
            return true;
        }

        var problem = JsonBodyProblems.Of(exception) is { } json
            ? await JsonBodyProblems.DescribeAsync(http, json, ct)
            : Map(http, exception, ProblemLanguages.Translator(http));
        if (problem.Status >= 500 && problem.Type == ProblemTypes.Internal)
            logger.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
        else if (problem.Status >= 500)
            logger.LogWarning("{Type} on {Method} {Path}: {Reason}", problem.Type, http.Request.Method, http.Request.Path, exception.GetType().Name);

        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

        http.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>The problem of <paramref name="exception"/>, its words translated by <paramref name="translate"/>.</summary>
    static ProblemDetails Map(HttpContext http, Exception exception, Func<string, string> translate) => Translated(exception switch
    {
        ProblemException p => From(p.Status, p.Type, p.Title, p.Detail, p.Extensions, p.Errors),
        Refusal r => From(StatusOf(r.Kind), r.Type, r.Title, r.Detail, r.Extensions, r.Errors),
        BadHttpRequestException bad => FromBadRequest(http, bad),
        InvalidOperationException { InnerException: ArgumentException } when HasUnknownCharset(http.Request) => Problem(
            StatusCodes.Status415UnsupportedMediaType,
            ProblemTypes.UnsupportedMediaType, "Unsupported media type", "The charset of the Content-Type is not one the service reads: send UTF-8."),
        PostgresException pg => FromPostgres(pg),
        CommitOutcomeUnknownException => Problem(StatusCodes.Status503ServiceUnavailable, ProblemTypes.CommitOutcomeUnknown,
            "The outcome of the change is unknown",
            "The connection to the database broke while the change was being committed. Read the resource again before retrying."),
        BrokenCircuitException or TimeoutRejectedException or NpgsqlException or TimeoutException => Problem(
            StatusCodes.Status503ServiceUnavailable, ProblemTypes.DatabaseUnavailable, "The database is unavailable",
            "The service cannot reach its database at the moment. Retry after the time given in Retry-After."),
        _ => Problem(StatusCodes.Status500InternalServerError, ProblemTypes.Internal, "Unexpected error",
            "The error has been logged with the trace id of this response."),
    }, translate);

    /// <summary>The one place where a domain refusal becomes an HTTP status.</summary>
    static int StatusOf(RefusalKind kind) => kind switch
    {
        RefusalKind.Invalid => StatusCodes.Status400BadRequest,
        RefusalKind.NotFound => StatusCodes.Status404NotFound,
        RefusalKind.DoesNotFit => StatusCodes.Status422UnprocessableEntity,
        RefusalKind.Forbidden => StatusCodes.Status403Forbidden,
        RefusalKind.Conflict => StatusCodes.Status409Conflict,
        RefusalKind.Stale => StatusCodes.Status412PreconditionFailed,
        RefusalKind.Gone => StatusCodes.Status410Gone,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Every refusal kind has a status."),
    };

    static ProblemWords From(int status, string type, Text title, Text? detail,
        IReadOnlyDictionary<string, object?> extensions, IReadOnlyDictionary<string, Text[]>? errors)
    {
        ProblemDetails details = errors is null ? new ProblemDetails() : new HttpValidationProblemDetails();
        details.Status = status;
        details.Type = type;
        foreach (var (key, value) in extensions) details.Extensions[key] = value;
        return new ProblemWords(details, title, detail, errors);
    }

    static ProblemDetails Translated(ProblemWords words, Func<string, string> translate)
    {
        var details = words.Details;
        details.Title = words.Title.Format(translate);
        details.Detail = words.Detail?.Format(translate);
        if (details is HttpValidationProblemDetails validation && words.Errors is { } errors)
            foreach (var (field, messages) in errors) validation.Errors[field] = [.. messages.Select(m => m.Format(translate))];
        return details;
    }

    /// <summary>
    /// Minimal APIs read a JSON body in the charset the Content-Type names; one they do not know (<c>charset=nonsense</c>,
    /// a quoted <c>charset="utf-8"</c>) fails with an InvalidOperationException over an ArgumentException, not a
    /// BadHttpRequestException: recognised by the request's charset, which is looked up the same way.
    /// </summary>
    static bool HasUnknownCharset(HttpRequest request)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || mediaType.Charset is not { Length: > 0 } charset) return false;
        if (charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            System.Text.Encoding.GetEncoding(charset.ToString());
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    static ProblemWords FromBadRequest(HttpContext http, BadHttpRequestException bad) => bad.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => Problem(413, ProblemTypes.PayloadTooLarge, "The request body is too large", "Send a smaller body."),
        StatusCodes.Status415UnsupportedMediaType => Problem(415, ProblemTypes.UnsupportedMediaType, "Unsupported media type",
            "Send the body as application/json."),
        StatusCodes.Status408RequestTimeout => Problem(408, ProblemTypes.RequestTimeout, "The request arrived too slowly",
            "The body was sent slower than the server accepts. Send it again on a faster connection."),
        // Only binding failures name a parameter; other protocol errors keep their own status.
        StatusCodes.Status400BadRequest when BindingFailures.Describe(http, http.Features.Get<IExceptionHandlerFeature>()) is { } binding => binding,
        _ => Problem(bad.StatusCode, ProblemTypes.ForStatus(bad.StatusCode), "The request is malformed",
            "The request breaks the HTTP protocol or a server limit."),
    };

    static ProblemWords FromPostgres(PostgresException pg) => pg.SqlState switch
    {
        PostgresErrorCodes.UniqueViolation => Problem(409, ProblemTypes.Conflict, "Already exists",
            ConstraintMessages.Describe(pg.ConstraintName) ?? "A resource with the same key already exists."),
        PostgresErrorCodes.ForeignKeyViolation => Problem(422, ProblemTypes.Validation, "The request refers to something that does not exist",
            ConstraintMessages.Describe(pg.ConstraintName) ?? "A referenced resource does not exist, or is still referenced."),
        PostgresErrorCodes.CheckViolation or PostgresErrorCodes.NotNullViolation => Problem(422, ProblemTypes.Validation,
            "The values are not consistent", ConstraintMessages.Describe(pg.ConstraintName) ?? "The values break a rule of the data model."),
        PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable => Problem(409,
            ProblemTypes.Conflict, "Concurrent change", "Another change to the same data happened at the same time. Retry the request."),
        PostgresErrorCodes.QueryCanceled => Problem(503, ProblemTypes.DatabaseUnavailable, "The database took too long", "Retry later."),
        _ when pg.SqlState.StartsWith("22", StringComparison.Ordinal) => Problem(400, ProblemTypes.Validation, "A value is out of range",
            "A value in the request cannot be stored (out of range or malformed)."),
        _ when pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57", StringComparison.Ordinal)
            => Problem(503, ProblemTypes.DatabaseUnavailable, "The database is unavailable", "Retry after the time given in Retry-After."),
        _ => Problem(500, ProblemTypes.Internal, "Unexpected error", "The error has been logged with the trace id of this response."),
    };

    static ProblemWords Problem(int status, string type, Text title, Text detail)
        => new(new ProblemDetails { Status = status, Type = type }, title, detail, null);
}

/// <summary>A problem still in words to translate: title, detail and field messages as templates with their arguments.</summary>
sealed record ProblemWords(ProblemDetails Details, Text Title, Text? Detail, IReadOnlyDictionary<string, Text[]>? Errors);

/// <summary>Adds <c>traceId</c> and <c>instance</c> to every problem, and a stable <c>type</c> where none was set.</summary>
public static class ProblemSetup
{
    /// <summary>
    /// The title a validation problem has when the framework writes it (request validation), taken from the framework rather than
    /// spelled here: the service's own validation problems carry their titles already.
    /// </summary>
    static readonly string? StockValidationTitle = new HttpValidationProblemDetails().Title;

    public static IServiceCollection AddRectifyProblems(this IServiceCollection services)
    {
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var http = context.HttpContext;
            var translate = ProblemLanguages.Translator(http);
            var details = context.ProblemDetails;
            var status = details.Status ?? context.HttpContext.Response.StatusCode;
            details.Status = status;
            if (details.Type is null || details.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
                details.Type = details is HttpValidationProblemDetails && status == 400 ? ProblemTypes.Validation : ProblemTypes.ForStatus(status);
            details.Instance ??= context.HttpContext.Request.Path;
            details.Extensions.Remove("exception"); // never echo developer exception details
            // A body that did not read into its contract already names fields as the caller wrote them.
            if (details is HttpValidationProblemDetails validation && status == StatusCodes.Status400BadRequest
                && details.Type != ProblemTypes.MalformedRequest)
            {
                NameFieldsAsTheApiDoes(http.GetEndpoint(), validation.Errors, translate);
                // Request validation (attributes) answers in the same words as the handlers' own checks.
                if (details.Title is null || details.Title == StockValidationTitle)
                {
                    details.Title = Problems.Problem.ValidationTitle;
                    details.Detail ??= Problems.Problem.ValidationDetail;
                }
            }
            // Words set outside the mapper (status code pages, authentication, rate limits) in the caller's language too; the
            // mapper's are translated already (a translation is no template, so it stays as it is).
            if (details.Title is null || details.Title == ReasonPhrases.GetReasonPhrase(status))
                details.Title = ProblemTypes.Title(details.Type)?.Format(translate) ?? details.Title;
            else details.Title = Text.Plain(details.Title).Format(translate);
            if (details.Detail is not null) details.Detail = Text.Plain(details.Detail).Format(translate);
            http.Response.Headers.ContentLanguage = ProblemLanguages.LanguageOf(http);
            details.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier;
        });
        // After the default writer (which AddProblemDetails adds): writes the problems that one declines for their Accept.
        services.AddSingleton<IProblemDetailsWriter, AnyAcceptProblemWriter>();
        return services;
    }

    /// <summary>
    /// Request validation names a field by its C# property (<c>RevisionReason</c>, <c>Items[0].Name</c>); the API's
    /// fields are camelCase, so the errors map says <c>revisionReason</c> as the caller wrote it, and the attributes'
    /// stock messages are said again from the attribute that broke, naming it so too (<see cref="ValidationMessages"/>), in
    /// the caller's language. Header names (<c>Idempotency-Key</c>) keep their spelling.
    /// </summary>
    static void NameFieldsAsTheApiDoes(Endpoint? endpoint, IDictionary<string, string[]> errors, Func<string, string> translate)
    {
        foreach (var (key, messages) in errors.ToList())
        {
            var name = key.StartsWith('$') ? key
                : string.Join('.', key.Split('.').Select(part => IsPropertyName(part) ? JsonNamingPolicy.CamelCase.ConvertName(part) : part));
            var readable = messages.Select(message => ValidationMessages.Describe(endpoint, key, name, message).Format(translate)).ToArray();
            errors.Remove(key);
            errors[name] = errors.TryGetValue(name, out var existing) ? [.. existing.Union(readable)] : readable;
        }

        static bool IsPropertyName(string part)
            => part.Length > 0 && char.IsUpper(part[0]) && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '[' or ']');
    }
}
