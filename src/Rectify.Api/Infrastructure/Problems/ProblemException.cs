namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// A failure the caller can act on. Handlers and repositories throw it; <see cref="ProblemExceptionHandler"/>
/// is the one place that turns it (and every other exception) into an RFC 9457 problem.
/// </summary>
public sealed class ProblemException : Exception
{
    public ProblemException(int status, string type, Text title, Text? detail = null, IReadOnlyDictionary<string, object?>? extensions = null,
        IReadOnlyDictionary<string, string[]>? errors = null)
        : this(status, type, title, detail, extensions, Text.Fields(errors))
    {
    }

    /// <summary>A problem whose field messages are translatable texts.</summary>
    public ProblemException(int status, string type, Text title, Text? detail, IReadOnlyDictionary<string, object?>? extensions,
        IReadOnlyDictionary<string, Text[]>? fields) : base((detail ?? title).ToString())
    {
        Status = status;
        Type = type;
        Title = title;
        Detail = detail;
        Extensions = extensions ?? new Dictionary<string, object?>();
        Errors = fields;
    }

    public int Status { get; }
    public string Type { get; }
    public Text Title { get; }
    public Text? Detail { get; }
    public IReadOnlyDictionary<string, object?> Extensions { get; }
    public IReadOnlyDictionary<string, Text[]>? Errors { get; }
}

/// <summary>The stable problem types of the API. Integrators switch on <c>type</c>, never on <c>title</c> or <c>detail</c>.</summary>
public static class ProblemTypes
{
    const string Prefix = "urn:rectify:problem:";
    public const string Validation = Prefix + "validation";
    public const string MalformedRequest = Prefix + "malformed-request";
    public const string NotFound = Prefix + "not-found";
    public const string Conflict = Prefix + "conflict";
    public const string InvalidTransition = Prefix + "invalid-transition";
    public const string ClosingBlocked = Prefix + "closing-blocked";
    public const string PreconditionFailed = Prefix + "precondition-failed";
    public const string PreconditionRequired = Prefix + "precondition-required";
    public const string IdempotencyKeyReused = Prefix + "idempotency-key-reused";
    public const string UnsupportedMediaType = Prefix + "unsupported-media-type";
    public const string PayloadTooLarge = Prefix + "payload-too-large";
    public const string MethodNotAllowed = Prefix + "method-not-allowed";
    public const string NotAcceptable = Prefix + "not-acceptable";
    public const string DatabaseUnavailable = Prefix + "database-unavailable";
    public const string CommitOutcomeUnknown = Prefix + "commit-outcome-unknown";
    public const string ImportRejected = Prefix + "import-rejected";
    public const string Unauthorized = Prefix + "unauthorized";
    public const string Forbidden = Prefix + "forbidden";
    /// <summary>A decision (sign-off) by the client that asked for it: someone else decides.</summary>
    public const string SeparationOfDuties = Prefix + "separation-of-duties";
    /// <summary>An update that would move a due date: due dates move only through POST …/deadline, with a reason.</summary>
    public const string DeadlineChangeRequired = Prefix + "deadline-change-required";
    /// <summary>An uploaded file whose bytes are not of the type it was declared as.</summary>
    public const string FileContentMismatch = Prefix + "file-content-mismatch";
    /// <summary>A Range that lies outside the file (416; Content-Range names the file's size).</summary>
    public const string RangeNotSatisfiable = Prefix + "range-not-satisfiable";
    /// <summary>A change under a closed (signed-off) issue: it is frozen until POST …/reopen.</summary>
    public const string IssueClosed = Prefix + "issue-closed";
    /// <summary>POST …/close: an issue is closed by accepting a sign-off submission (POST …/sign-offs, then …/decision).</summary>
    public const string SignOffRequired = Prefix + "sign-off-required";
    public const string CursorExpired = Prefix + "cursor-expired";
    public const string TooManyRequests = Prefix + "too-many-requests";
    public const string RequestTimeout = Prefix + "request-timeout";
    /// <summary>The report as PDF: no Chromium on the host, or its print failed or took too long (503).</summary>
    public const string PdfUnavailable = Prefix + "pdf-unavailable";
    public const string Internal = Prefix + "internal";

    /// <summary>
    /// The title of a problem of <paramref name="type"/> that carries none of its own (routing, status code pages, a
    /// framework's stock title); null for a type not listed here (the localisation tests require every type to be).
    /// </summary>
    public static Text? Title(string? type) => type switch
    {
        Validation => Problem.ValidationTitle,
        MalformedRequest => "The request is malformed",
        NotFound => "Not found",
        Conflict => "Conflict",
        InvalidTransition => "Transition not allowed",
        ClosingBlocked => "The issue cannot be closed yet",
        DeadlineChangeRequired => "Due dates move through the deadline endpoint",
        IssueClosed => "The issue is closed",
        SignOffRequired => "Issues are closed through a sign-off",
        PreconditionFailed => "The resource has changed",
        PreconditionRequired => "If-Match is required",
        IdempotencyKeyReused => "Idempotency-Key reused with another request",
        UnsupportedMediaType => "Unsupported media type",
        PayloadTooLarge => "The request body is too large",
        MethodNotAllowed => "Method not allowed",
        NotAcceptable => "Not acceptable",
        DatabaseUnavailable => "The database is unavailable",
        CommitOutcomeUnknown => "The outcome of the change is unknown",
        ImportRejected => "The push was rejected",
        Unauthorized => "Authentication required",
        Forbidden => "Not allowed",
        SeparationOfDuties => "A client cannot decide on its own request",
        FileContentMismatch => "The file's bytes do not match its declared type",
        RangeNotSatisfiable => "The range lies outside the file",
        CursorExpired => "Cursor too old",
        TooManyRequests => "Too many requests",
        RequestTimeout => "The request arrived too slowly",
        PdfUnavailable => "The PDF cannot be printed now",
        Internal => "Unexpected error",
        _ => (Text?)null,
    };

    /// <summary>The type used for a bare status code (routing, status code pages).</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => MalformedRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        408 => RequestTimeout,
        409 => Conflict,
        412 => PreconditionFailed,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        416 => RangeNotSatisfiable,
        422 => Validation,
        428 => PreconditionRequired,
        429 => TooManyRequests,
        503 => DatabaseUnavailable,
        >= 500 => Internal,
        _ => Prefix + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Factories for the problems that handlers raise.</summary>
public static class Problem
{
    public static ProblemException NotFound(Text what, object key) => new(
        StatusCodes.Status404NotFound, ProblemTypes.NotFound, "Not found",
        $"No {what} '{key}' exists.");

    public static ProblemException Validation(string field, Text message) => Validation(new Dictionary<string, Text[]> { [field] = [message] });

    public const string ValidationTitle = "One or more fields are invalid";
    public const string ValidationDetail = "See errors for the fields to correct.";

    public static ProblemException Validation(IReadOnlyDictionary<string, string[]> errors) => Validation(Text.Fields(errors)!);

    public static ProblemException Validation(IReadOnlyDictionary<string, Text[]> errors) => new(
        StatusCodes.Status400BadRequest, ProblemTypes.Validation, ValidationTitle, ValidationDetail, null, errors);

    /// <summary>A well-formed request that refers to something that does not exist (an unknown unit, a parent in another round).</summary>
    public static ProblemException Unprocessable(string field, Text message) => new(
        StatusCodes.Status422UnprocessableEntity, ProblemTypes.Validation, "The request refers to something that does not fit",
        message, null, new Dictionary<string, Text[]> { [field] = [message] });

    /// <summary>A valid key that may not act on this resource (a unit outside the client's units).</summary>
    public static ProblemException Forbidden(Text detail) => new(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, "Not allowed", detail);

    public static ProblemException Conflict(Text detail) => new(StatusCodes.Status409Conflict, ProblemTypes.Conflict, "Conflict", detail);

    public static ProblemException PreconditionFailed() => new(
        StatusCodes.Status412PreconditionFailed, ProblemTypes.PreconditionFailed, "The resource has changed",
        "If-Match does not match the current ETag: read the resource again and re-apply the change.");

    public static ProblemException PreconditionRequired() => new(
        StatusCodes.Status428PreconditionRequired, ProblemTypes.PreconditionRequired, "If-Match is required",
        "Send the ETag of the representation you read in If-Match, so that a concurrent change is not overwritten.");
}
