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
public sealed class Refusal : Exception
{
    public Refusal(RefusalKind kind, string type, Text title, Text? detail = null, IReadOnlyDictionary<string, object?>? extensions = null,
        IReadOnlyDictionary<string, string[]>? errors = null)
        : this(kind, type, title, detail, extensions, Text.Fields(errors))
    {
    }

    /// <summary>A refusal whose field messages are translatable texts.</summary>
    public Refusal(RefusalKind kind, string type, Text title, Text? detail, IReadOnlyDictionary<string, object?>? extensions,
        IReadOnlyDictionary<string, Text[]>? fields) : base((detail ?? title).ToString())
    {
        Kind = kind;
        Type = type;
        Title = title;
        Detail = detail;
        Extensions = extensions ?? new Dictionary<string, object?>();
        Errors = fields;
    }

    public RefusalKind Kind { get; }
    /// <summary>The stable problem type (<see cref="Infrastructure.Problems.ProblemTypes"/>) callers switch on.</summary>
    public string Type { get; }
    public Text Title { get; }
    public Text? Detail { get; }
    public IReadOnlyDictionary<string, object?> Extensions { get; }
    /// <summary>Field → messages, in the caller's words once the mapper translates them.</summary>
    public IReadOnlyDictionary<string, Text[]>? Errors { get; }

    /// <summary>One line for a log or a terminal, in English: title, detail and every field message.</summary>
    public string Describe()
        => string.Join(' ', new[] { $"{Title}:", Detail?.ToString() }.Concat(Errors?.SelectMany(e => e.Value).Select(t => t.ToString()) ?? [])
            .OfType<string>());
}

/// <summary>The refusals the use cases raise most, worded once.</summary>
public static class Refuse
{
    public static Refusal NotFound(Text what, object key)
        => new(RefusalKind.NotFound, Infrastructure.Problems.ProblemTypes.NotFound, "Not found", $"No {what} '{key}' exists.");

    public static Refusal Invalid(string field, Text message) => Invalid(new Dictionary<string, Text[]> { [field] = [message] });

    public static Refusal Invalid(IReadOnlyDictionary<string, string[]> errors) => Invalid(Text.Fields(errors)!);

    public static Refusal Invalid(IReadOnlyDictionary<string, Text[]> errors) => new(
        RefusalKind.Invalid, Infrastructure.Problems.ProblemTypes.Validation, Infrastructure.Problems.Problem.ValidationTitle,
        Infrastructure.Problems.Problem.ValidationDetail, null, errors);

    /// <summary>A well-formed request that refers to something that does not exist (an unknown unit, a parent in another round).</summary>
    public static Refusal DoesNotFit(string field, Text message) => new(
        RefusalKind.DoesNotFit, Infrastructure.Problems.ProblemTypes.Validation, "The request refers to something that does not fit",
        message, null, new Dictionary<string, Text[]> { [field] = [message] });

    public static Refusal Forbidden(Text detail) => new(RefusalKind.Forbidden, Infrastructure.Problems.ProblemTypes.Forbidden, "Not allowed", detail);

    public static Refusal Conflict(Text detail) => new(RefusalKind.Conflict, Infrastructure.Problems.ProblemTypes.Conflict, "Conflict", detail);

    public static Refusal Stale() => new(
        RefusalKind.Stale, Infrastructure.Problems.ProblemTypes.PreconditionFailed, "The resource has changed",
        "If-Match does not match the current ETag: read the resource again and re-apply the change.");
}
