using System.Text.Json;

namespace Rectify.Push;

public static class ExitCodes
{
    public const int Success = 0;
    public const int RowsRejected = 1;
    public const int Failed = 2;
    public const int Usage = 64;
}

public enum PushOutcome
{
    /// <summary>2xx, nothing rejected: applied, or a clean dry run.</summary>
    Accepted,

    /// <summary>2xx with rejected rows: a non-atomic push applied the rest, or a dry run found them.</summary>
    RowsRejected,

    /// <summary>422 import-rejected: an atomic push wrote nothing because some rows were rejected.</summary>
    Refused,

    /// <summary>No usable answer: network or 5xx after the retries, another 4xx, or an unexpected answer.</summary>
    Failed,
}

/// <summary>The answer's <c>errors</c> entry for one rejected row.</summary>
public sealed record ImportError(long? Row, string? Field, string? Message)
{
    public static ImportError? From(JsonElement element)
    {
        try
        {
            return element.Deserialize<ImportError>(ImportSummary.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// What the server did with the file (the body of a 200, the <c>summary</c> member of an import-rejected 422). Only
/// the members this program shows: the echoed strategy is left out, so that its spelling cannot fail a push.
/// </summary>
public sealed record ImportSummary(
    Guid? ImportId,
    bool DryRun,
    bool Atomic,
    bool Applied,
    long Received,
    long Inserted,
    long Updated,
    long Unchanged,
    long Deleted,
    long Rejected,
    IReadOnlyList<ImportError>? Errors,
    bool ErrorsTruncated)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static ImportSummary? From(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) return null;
        try
        {
            return element.Deserialize<ImportSummary>(Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>An RFC 9457 problem as far as a person reading the job's log needs it.</summary>
public sealed record ProblemDocument(string? Type, string? Title, string? Detail, IReadOnlyList<string> Errors, ImportSummary? Summary)
{
    public const string ImportRejectedType = "urn:rectify:problem:import-rejected";

    public static ProblemDocument? Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            return new ProblemDocument(
                Text(root, "type"),
                Text(root, "title"),
                Text(root, "detail"),
                ErrorLines(root),
                root.TryGetProperty("summary", out var summary) ? ImportSummary.From(summary) : null);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static string? Text(JsonElement root, string name)
        => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Both shapes the API uses: a map of field to messages (validation), or a list of row errors.</summary>
    static List<string> ErrorLines(JsonElement root)
    {
        var lines = new List<string>();
        if (!root.TryGetProperty("errors", out var errors)) return lines;
        if (errors.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in errors.EnumerateObject())
            {
                if (field.Value.ValueKind == JsonValueKind.Array)
                    lines.AddRange(field.Value.EnumerateArray().Select(m => $"{field.Name}: {m}"));
                else
                    lines.Add($"{field.Name}: {field.Value}");
            }
        }
        else if (errors.ValueKind == JsonValueKind.Array)
        {
            lines.AddRange(errors.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object && ImportError.From(e) is { Message: not null } row
                ? PushReport.Describe(row)
                : e.ToString()));
        }
        return lines;
    }
}

/// <summary>One failed attempt that was retried, and how long the client waited before the next.</summary>
public sealed record PushRetry(int Attempt, string Reason, TimeSpan Delay);

public sealed record PushResult
{
    public required PushOutcome Outcome { get; init; }

    /// <summary>Status of the last answer; null when no answer came.</summary>
    public int? StatusCode { get; init; }

    public ImportSummary? Summary { get; init; }
    public ProblemDocument? Problem { get; init; }

    /// <summary>Why the push failed, for <see cref="PushOutcome.Failed"/>.</summary>
    public string? Message { get; init; }

    /// <summary>The server answered from its idempotency store: this file had been pushed before.</summary>
    public bool Replayed { get; init; }

    /// <summary>Sent with the push; null for dry runs, or when the file could not be read.</summary>
    public string? IdempotencyKey { get; init; }

    public int Attempts { get; init; }
    public IReadOnlyList<PushRetry> Retries { get; init; } = [];

    public int ExitCode => Outcome switch
    {
        PushOutcome.Accepted => ExitCodes.Success,
        PushOutcome.RowsRejected or PushOutcome.Refused => ExitCodes.RowsRejected,
        _ => ExitCodes.Failed,
    };
}
