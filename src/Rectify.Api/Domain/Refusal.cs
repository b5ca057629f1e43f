namespace Rectify.Api.Domain;

/// <summary>What kind of refusal it is; the one problem mapper decides the HTTP status from it.</summary>
public enum RefusalKind
{
    /// <summary>A value breaks a rule of its own (a malformed date, a missing reason).</summary>
    Invalid,
    /// <summary>The thing asked for does not exist (or the caller may not know it exists).</summary>
    NotFound,
    /// <summary>A well-formed request that refers to something that does not exist or does not fit.</summary>
    DoesNotFit,
    /// <summary>The caller may not do this (a unit outside its units, deciding on its own request).</summary>
    Forbidden,
    /// <summary>The current state forbids it (a transition not allowed, a closed issue, a duplicate).</summary>
    Conflict,
    /// <summary>The caller's copy is out of date (its version does not match).</summary>
    Stale,
    /// <summary>What the caller points at is no longer kept (a change-feed cursor older than the retention).</summary>
    Gone,
}

/// <summary>
/// A rule of the domain that refuses what was asked. Use cases throw it without knowing about HTTP; the problem
/// mapper turns it into an RFC 9457 problem (<see cref="Infrastructure.Problems.ProblemExceptionHandler"/>),
/// and the command line prints it.
/// </summary>
public sealed class Refusal(
    RefusalKind kind,
    string type,
    string title,
    string? detail = null,
    IReadOnlyDictionary<string, object?>? extensions = null,
    IReadOnlyDictionary<string, string[]>? errors = null) : Exception(detail ?? title)
{
    public RefusalKind Kind { get; } = kind;
    /// <summary>The stable problem type (<see cref="Infrastructure.Problems.ProblemTypes"/>) callers switch on.</summary>
    public string Type { get; } = type;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public IReadOnlyDictionary<string, object?> Extensions { get; } = extensions ?? new Dictionary<string, object?>();
    public IReadOnlyDictionary<string, string[]>? Errors { get; } = errors;

    /// <summary>One line for a log or a terminal: title, detail and every field message.</summary>
    public string Describe() => string.Join(' ', new[] { $"{Title}:", Detail }.Concat(Errors?.SelectMany(e => e.Value) ?? []).OfType<string>());
}

/// <summary>The refusals the use cases raise most, worded once.</summary>
public static class Refuse
{
    public static Refusal NotFound(string what, object key)
        => new(RefusalKind.NotFound, Infrastructure.Problems.ProblemTypes.NotFound, "Not found", $"No {what} '{key}' exists.");

    public static Refusal Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static Refusal Invalid(IReadOnlyDictionary<string, string[]> errors) => new(
        RefusalKind.Invalid, Infrastructure.Problems.ProblemTypes.Validation, Infrastructure.Problems.Problem.ValidationTitle,
        Infrastructure.Problems.Problem.ValidationDetail, errors: errors);

    /// <summary>A well-formed request that refers to something that does not exist (an unknown unit, a parent in another round).</summary>
    public static Refusal DoesNotFit(string field, string message) => new(
        RefusalKind.DoesNotFit, Infrastructure.Problems.ProblemTypes.Validation, "The request refers to something that does not fit",
        message, errors: new Dictionary<string, string[]> { [field] = [message] });

    public static Refusal Forbidden(string detail) => new(RefusalKind.Forbidden, Infrastructure.Problems.ProblemTypes.Forbidden, "Not allowed", detail);

    public static Refusal Conflict(string detail) => new(RefusalKind.Conflict, Infrastructure.Problems.ProblemTypes.Conflict, "Conflict", detail);

    public static Refusal Stale() => new(
        RefusalKind.Stale, Infrastructure.Problems.ProblemTypes.PreconditionFailed, "The resource has changed",
        "If-Match does not match the current ETag: read the resource again and re-apply the change.");
}
