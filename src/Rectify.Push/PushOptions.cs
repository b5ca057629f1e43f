namespace Rectify.Push;

public enum ImportStrategy { Upsert, Create, Delete }

public enum ImportFormat { Csv, Json }

/// <summary>
/// Everything one push needs. A class rather than a record: a record's generated ToString would print the API key.
/// </summary>
public sealed class PushOptions
{
    public required Uri BaseUrl { get; init; }
    public required string FilePath { get; init; }
    public required ImportFormat Format { get; init; }
    public ImportStrategy Strategy { get; init; } = ImportStrategy.Upsert;
    public bool Atomic { get; init; } = true;
    public bool DryRun { get; init; }
    public string? RevisionReason { get; init; }

    /// <summary>Sent as a bearer token; never printed.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Limit for one attempt, upload and answer together; a large file on a slow line needs minutes.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Retries after the first attempt; 0 sends once.</summary>
    public int Retries { get; init; } = 5;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A server that asks for a longer wait than this is given up on rather than retried early: retrying before its
    /// Retry-After would only be refused again, and a scheduled job should not sleep for hours.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(10);

    public static string Name(ImportStrategy strategy) => strategy switch
    {
        ImportStrategy.Upsert => "upsert",
        ImportStrategy.Create => "create",
        ImportStrategy.Delete => "delete",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
    };

    public static string Name(ImportFormat format) => format == ImportFormat.Csv ? "csv" : "json";
}
