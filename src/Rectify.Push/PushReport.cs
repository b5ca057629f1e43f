using System.Globalization;
using System.Text;

namespace Rectify.Push;

/// <summary>
/// Writes a <see cref="PushResult"/> for a person reading the job's log: the summary to standard output, failures to
/// standard error. Text from the server is cleaned of control characters, so that an answer cannot rewrite the
/// terminal or forge log lines.
/// </summary>
public static class PushReport
{
    /// <summary>Enough rows to see what went wrong; the rest are the same mistake repeated, as a rule.</summary>
    public const int MaxListedErrors = 20;

    public static void Write(PushResult result, PushOptions options, TextWriter stdout, TextWriter stderr)
    {
        var name = Path.GetFileName(options.FilePath);
        var how = $"{PushOptions.Name(options.Strategy)}, {(options.Atomic ? "atomic" : "non-atomic")}";

        if (result.Summary is { } summary)
        {
            stdout.WriteLine($"{name}: {Headline(result, summary, options)} ({how})");
            if (result.Replayed)
                stdout.WriteLine("replayed: this file had been pushed before; the server repeated its first answer");
            WriteCounts(summary, stdout);
            WriteErrors(summary, stdout);
            if (result.Outcome == PushOutcome.Refused)
                stdout.WriteLine("nothing was written: correct the rows and push again, or push with --non-atomic to apply the others");
            if (summary.ImportId is { } id) stdout.WriteLine($"import id: {id}");
            if (result.IdempotencyKey is { } key) stdout.WriteLine($"idempotency key: {key}");
            if (summary.Received == 0) stderr.WriteLine($"rectify-push: warning: {name} holds no rows; nothing was written");
        }

        switch (result.Outcome)
        {
            case PushOutcome.RowsRejected or PushOutcome.Refused:
                stderr.WriteLine(Invariant($"rectify-push: {result.Summary?.Rejected ?? 0} row(s) of {name} rejected"));
                break;
            case PushOutcome.Failed:
                stderr.WriteLine($"rectify-push: push of {name} failed: {Clean(result.Message ?? "unknown error")}");
                if (result.Problem is { } problem) WriteProblem(problem, stderr);
                break;
        }
    }

    static string Headline(PushResult result, ImportSummary summary, PushOptions options) => result.Outcome switch
    {
        PushOutcome.Refused => "refused, rows were rejected",
        _ when options.DryRun || summary.DryRun => summary.Rejected > 0 ? "dry run, rows would be rejected" : "dry run, every row would be accepted",
        PushOutcome.RowsRejected => "applied, except the rejected rows",
        PushOutcome.Accepted when summary.Received == 0 => "nothing to apply",
        PushOutcome.Accepted => "applied",
        _ => "not applied",
    };

    static void WriteCounts(ImportSummary s, TextWriter stdout)
    {
        foreach (var (label, value) in new[]
        {
            ("received", s.Received), ("inserted", s.Inserted), ("updated", s.Updated),
            ("unchanged", s.Unchanged), ("deleted", s.Deleted), ("rejected", s.Rejected),
        })
            stdout.WriteLine(Invariant($"  {label,-10}{value,10}"));
    }

    static void WriteErrors(ImportSummary s, TextWriter stdout)
    {
        var errors = s.Errors ?? [];
        if (errors.Count == 0) return;
        stdout.WriteLine(errors.Count > MaxListedErrors
            ? Invariant($"rejected rows (first {MaxListedErrors} of {errors.Count} listed):")
            : "rejected rows:");
        foreach (var error in errors.Take(MaxListedErrors))
            stdout.WriteLine($"  {Describe(error)}");
        if (s.ErrorsTruncated)
            stdout.WriteLine(Invariant($"  … the server listed only the first {errors.Count} errors"));
    }

    /// <summary>"row 3 unit: message", the row and field left out when the server did not name them.</summary>
    public static string Describe(ImportError error)
    {
        var where = new StringBuilder();
        if (error.Row is { } row) where.Append(CultureInfo.InvariantCulture, $"row {row}");
        if (!string.IsNullOrEmpty(error.Field)) where.Append(where.Length > 0 ? " " : "").Append(Clean(error.Field));
        var message = WithoutRow(Clean(error.Message ?? "rejected"), error.Row);
        return where.Length > 0 ? $"{where}: {message}" : message;
    }

    /// <summary>The server names the row in its message ("Row 3: …", "第3行：…"); the report names it once, in front.</summary>
    static string WithoutRow(string message, long? row)
    {
        if (row is null) return message;
        foreach (var prefix in new[] { Invariant($"Row {row}: "), Invariant($"第{row}行：") })
        {
            if (message.StartsWith(prefix, StringComparison.Ordinal)) return message[prefix.Length..];
        }
        return message;
    }

    static void WriteProblem(ProblemDocument problem, TextWriter stderr)
    {
        var heading = string.Join(": ", new[] { problem.Title, problem.Detail }.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => Clean(t!)));
        if (heading.Length > 0) stderr.WriteLine($"  {heading}");
        if (problem.Type is { } type) stderr.WriteLine($"  type: {Clean(type)}");
        foreach (var line in problem.Errors.Take(MaxListedErrors))
            stderr.WriteLine($"  {Clean(line)}");
        if (problem.Errors.Count > MaxListedErrors)
            stderr.WriteLine(Invariant($"  … and {problem.Errors.Count - MaxListedErrors} more"));
    }

    /// <summary>Control characters (newlines, escapes) and bidirectional overrides become spaces; long text is cut.</summary>
    public static string Clean(string text)
    {
        const int max = 500;
        var builder = new StringBuilder(Math.Min(text.Length, max + 1));
        foreach (var c in text.Length > max ? text.AsSpan(0, max) : text.AsSpan())
            builder.Append(char.IsControl(c) || c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') ? ' ' : c);
        if (text.Length > max) builder.Append('…');
        return builder.ToString();
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
