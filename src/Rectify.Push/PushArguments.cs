using System.Globalization;

namespace Rectify.Push;

/// <summary>A command line the program cannot act on; exit code 64 (EX_USAGE).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The parsed command line. Holds the key file's path, never the key.</summary>
public sealed record PushArguments
{
    public const string Usage = """
        Usage: rectify-push --url URL [options] FILE.csv|FILE.json

        Pushes monthly indicator values to Rectify (POST /api/v1/data-values/import).

        Options:
          --url URL                 base address of the service, e.g. https://rectify.example.gov.cn
          --key-file PATH           file holding the API key (sent as a bearer token)
          --strategy NAME           upsert (default), create or delete
          --non-atomic              apply the valid rows even when others are rejected
          --dry-run                 validate only; nothing is written
          --revision-reason TEXT    why published values are corrected
          --format csv|json         when the file name does not end in .csv or .json
          --timeout SECONDS         limit for one attempt, upload and answer (default 600)
          --retries N               retries after the first attempt on transient failures (default 5)
          -h, --help                show this help

        Exit codes: 0 applied with no rejected rows, 1 rows rejected, 2 push failed, 64 bad usage.
        """;

    public bool Help { get; init; }
    public Uri? Url { get; init; }
    public string? KeyFile { get; init; }
    public ImportStrategy Strategy { get; init; } = ImportStrategy.Upsert;
    public bool Atomic { get; init; } = true;
    public bool DryRun { get; init; }
    public string? RevisionReason { get; init; }
    public ImportFormat? Format { get; init; }
    public int TimeoutSeconds { get; init; } = 600;
    public int Retries { get; init; } = 5;
    public string? FilePath { get; init; }

    public static PushArguments Parse(IReadOnlyList<string> args)
    {
        var result = new PushArguments();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<string>();
        var optionsEnded = false;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (optionsEnded || arg == "-" || !arg.StartsWith('-'))
            {
                files.Add(arg);
                continue;
            }
            if (arg == "--")
            {
                optionsEnded = true;
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[..equals] : arg;
            string? inline = equals > 0 ? arg[(equals + 1)..] : null;
            if (name is not ("-h" or "--help") && !seen.Add(name))
                throw new UsageException($"{name} is given more than once.");

            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count) throw new UsageException($"{name} needs a value.");
                return args[++i];
            }

            void Flag()
            {
                if (inline is not null) throw new UsageException($"{name} takes no value.");
            }

            switch (name)
            {
                case "-h" or "--help":
                    Flag();
                    result = result with { Help = true };
                    break;
                case "--url":
                    result = result with { Url = ParseUrl(Value()) };
                    break;
                case "--key-file":
                    result = result with { KeyFile = NonEmpty(name, Value()) };
                    break;
                case "--strategy":
                    result = result with
                    {
                        Strategy = Value() switch
                        {
                            "upsert" => ImportStrategy.Upsert,
                            "create" => ImportStrategy.Create,
                            "delete" => ImportStrategy.Delete,
                            var other => throw new UsageException($"--strategy must be upsert, create or delete, not '{other}'."),
                        },
                    };
                    break;
                case "--non-atomic":
                    Flag();
                    result = result with { Atomic = false };
                    break;
                case "--dry-run":
                    Flag();
                    result = result with { DryRun = true };
                    break;
                case "--revision-reason":
                    result = result with { RevisionReason = NonEmpty(name, Value()) };
                    break;
                case "--format":
                    result = result with
                    {
                        Format = Value() switch
                        {
                            "csv" => ImportFormat.Csv,
                            "json" => ImportFormat.Json,
                            var other => throw new UsageException($"--format must be csv or json, not '{other}'."),
                        },
                    };
                    break;
                case "--timeout":
                    result = result with { TimeoutSeconds = Integer(name, Value(), 1, 86_400) };
                    break;
                case "--retries":
                    result = result with { Retries = Integer(name, Value(), 0, 100) };
                    break;
                default:
                    throw new UsageException($"Unknown option {name}.");
            }
        }

        if (result.Help) return result;
        if (result.Url is null) throw new UsageException("--url is required.");
        if (files.Count != 1)
            throw new UsageException(files.Count == 0 ? "Name the file to push." : "Name exactly one file to push.");
        // The file is read twice (once for its key, once per attempt), which a pipe cannot give.
        if (files[0] == "-") throw new UsageException("Reading values from standard input is not supported; name a file.");
        return result with { FilePath = files[0], Format = result.Format ?? FormatOf(files[0]) };
    }

    /// <summary>The options for one push; the key comes from the key file, read by the caller.</summary>
    public PushOptions ToOptions(string? apiKey, TimeSpan retryBaseDelay) => new()
    {
        BaseUrl = Url ?? throw new InvalidOperationException("Parse checks --url."),
        FilePath = FilePath ?? throw new InvalidOperationException("Parse checks the file."),
        Format = Format ?? throw new InvalidOperationException("Parse settles the format."),
        Strategy = Strategy,
        Atomic = Atomic,
        DryRun = DryRun,
        RevisionReason = RevisionReason,
        ApiKey = apiKey,
        AttemptTimeout = TimeSpan.FromSeconds(TimeoutSeconds),
        Retries = Retries,
        RetryBaseDelay = retryBaseDelay,
    };

    static ImportFormat FormatOf(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".csv" => ImportFormat.Csv,
        ".json" => ImportFormat.Json,
        _ => throw new UsageException($"Cannot tell the format of '{file}' from its name; pass --format csv or --format json."),
    };

    static Uri ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new UsageException($"--url must be an absolute http or https address, not '{text}'.");
        // Credentials in the address would end up in messages and logs; the key file is the one place for them.
        if (url.UserInfo.Length > 0) throw new UsageException("--url must not hold credentials; use --key-file.");
        if (url.Query.Length > 0 || url.Fragment.Length > 0) throw new UsageException("--url must not have a query or fragment.");
        return url;
    }

    static string NonEmpty(string name, string value)
        => string.IsNullOrWhiteSpace(value) ? throw new UsageException($"{name} needs a value.") : value;

    static int Integer(string name, string value, int min, int max)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new UsageException($"{name} must be a whole number from {min} to {max}, not '{value}'.");
}
