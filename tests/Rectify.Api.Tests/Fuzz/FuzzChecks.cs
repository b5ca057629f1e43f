using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Rectify.Api.Tests.Fuzz;

/// <summary>What came back for one request.</summary>
public sealed record Outcome(int Status, string? MediaType, byte[] Body, string? Error, TimeSpan Elapsed,
    IReadOnlyCollection<string>? HeaderNames = null)
{
    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// Detects any committed write: per table, the number of rows and the sum of the rows' <c>xmin</c> (the id of the
/// transaction that wrote each row version). An insert or delete changes the count; an update gives the row a new
/// <c>xmin</c>. Rolled-back work and row locks (<c>FOR UPDATE</c>) change neither.
/// </summary>
public sealed class TableWatch : IAsyncDisposable
{
    readonly NpgsqlConnection _connection;
    readonly NpgsqlCommand _count;

    TableWatch(NpgsqlConnection connection, IReadOnlyList<string> tables)
    {
        _connection = connection;
        Tables = tables;
        _count = new NpgsqlCommand(string.Join("\nUNION ALL ",
            tables.Select(t => $"SELECT '{t}', count(*), coalesce(sum(xmin::text::bigint), 0)::bigint FROM \"{t}\"")), connection);
    }

    public IReadOnlyList<string> Tables { get; }

    public static async Task<TableWatch> OpenAsync(string connectionString, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        var tables = new List<string>();
        await using (var command = new NpgsqlCommand("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) tables.Add(reader.GetString(0));
        }
        var watch = new TableWatch(connection, tables);
        await watch._count.PrepareAsync(ct);
        return watch;
    }

    public async Task<Dictionary<string, (long Rows, long Versions)>> SnapshotAsync(CancellationToken ct)
    {
        var snapshot = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        await using var reader = await _count.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) snapshot[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        return snapshot;
    }

    /// <summary>What changed between two snapshots, or null when nothing did.</summary>
    public static string? Diff(Dictionary<string, (long Rows, long Versions)> before, Dictionary<string, (long Rows, long Versions)> after)
    {
        var changes = after.Where(a => !before.TryGetValue(a.Key, out var b) || b != a.Value)
            .Select(a => before.TryGetValue(a.Key, out var b)
                && b.Rows != a.Value.Rows ? $"{a.Key} rows {b.Rows}→{a.Value.Rows}" : $"{a.Key} rows rewritten")
            .ToList();
        return changes.Count == 0 ? null : string.Join(", ", changes);
    }

    public async ValueTask DisposeAsync()
    {
        await _count.DisposeAsync();
        await _connection.DisposeAsync();
    }
}

/// <summary>The rules every answer must follow (DESIGN.md, API conventions).</summary>
public static partial class AnswerRules
{
    /// <summary>Text that belongs to the server's insides. An error may repeat what the caller sent, so a marker the request itself holds is not
    /// counted.</summary>
    static readonly string[] Leaks =
        ["   at ", "Exception", "Npgsql", "Postgres", "SELECT ", "INSERT INTO", "DELETE FROM", "System.", "Microsoft.", "Dapper", "SQLSTATE",
        ".cs:line", "ERROR:"];

    [GeneratedRegex(@"\bselect\b[^.]{0,200}\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b|\bon\s+conflict\b|\breturning\b",
        RegexOptions.IgnoreCase)]
    private static partial Regex Sql();

    public static List<string> Check(FuzzRequest request, Outcome outcome)
    {
        var violations = new List<string>();
        if (outcome.Error is not null)
        {
            violations.Add(outcome.Error);
            return violations;
        }
        var status = outcome.Status;
        if (status >= 500) violations.Add($"{status} answer");
        else if (status is < 200 or (>= 300 and < 400)) violations.Add($"unexpected status {status}");

        if (status >= 400) CheckProblem(request, outcome, violations);
        else if (outcome.MediaType is { } type && type.Contains("json", StringComparison.OrdinalIgnoreCase) && outcome.Body.Length > 0)
        {
            try
            {
                JsonNode.Parse(outcome.Body);
            }
            catch (JsonException)
            {
                violations.Add($"{status} answer with a {type} body that is not JSON");
            }
        }
        return violations;
    }

    static void CheckProblem(FuzzRequest request, Outcome outcome, List<string> violations)
    {
        if (outcome.MediaType != "application/problem+json")
            violations.Add($"Content-Type {outcome.MediaType ?? "(none)"} instead of application/problem+json");
        JsonNode? parsed = null;
        try
        {
            parsed = outcome.Body.Length == 0 ? null : JsonNode.Parse(outcome.Body);
        }
        catch (JsonException)
        {
        }
        if (parsed is not JsonObject problem)
        {
            violations.Add(outcome.Body.Length == 0 ? "no problem body" : "the problem is not a JSON object");
            return;
        }
        if (Text(problem, "type") is not { } type || !type.StartsWith("urn:rectify:problem:", StringComparison.Ordinal))
            violations.Add($"type is {problem["type"]?.ToJsonString() ?? "missing"}, not a urn:rectify:problem: type");
        if (string.IsNullOrWhiteSpace(Text(problem, "title"))) violations.Add("title is missing or empty");
        if (problem["status"] is not JsonValue statusValue || !statusValue.TryGetValue<int>(out var s) || s != outcome.Status)
            violations.Add($"status field is {problem["status"]?.ToJsonString() ?? "missing"}, the answer is {outcome.Status}");
        if (string.IsNullOrWhiteSpace(Text(problem, "traceId"))) violations.Add("traceId is missing");
        if (problem["detail"] is { } detail && detail.GetValueKind() != JsonValueKind.String) violations.Add("detail is not text");
        if (problem["errors"] is { } errors && (errors is not JsonObject fields
            || fields.Any(f => f.Value is not JsonArray messages || messages.Any(m => m?.GetValueKind() != JsonValueKind.String))))
            violations.Add("errors is not a map of field → messages");

        var text = outcome.BodyText;
        var sent = new Lazy<string>(() => request.SentText);
        foreach (var leak in Leaks)
            if (text.Contains(leak, StringComparison.Ordinal)
                && !sent.Value.Contains(leak, StringComparison.Ordinal)) violations.Add($"the problem contains \"{leak.Trim()}\"");
        if (Sql().Match(text) is { Success: true } sql && !Sql().IsMatch(sent.Value)) violations.Add($"the problem contains SQL \"{sql.Value}\"");
    }

    static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

/// <summary>Collects the service's warnings and errors (with exceptions and their stacks) while a request runs, to report the cause of a
/// failure.</summary>
public sealed class ServerLog : ILoggerProvider
{
    readonly ConcurrentQueue<string> _entries = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public List<string> Drain()
    {
        var entries = new List<string>();
        while (_entries.TryDequeue(out var entry)) entries.Add(entry);
        return entries;
    }

    public void Dispose()
    {
    }

    sealed class Logger(ServerLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log._entries.Enqueue($"{logLevel} {category}: " +
                $"{formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
    }
}
