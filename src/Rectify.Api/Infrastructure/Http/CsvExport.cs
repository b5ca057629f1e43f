using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>One column of a CSV export: its header (the JSON field's camelCase name) and the row's value.</summary>
public sealed record CsvColumn<T>(string Name, Func<T, object?> Value);

/// <summary>
/// CSV exports (the <c>…/export</c> operations beside the JSON ones), in one place so that every export escapes and encodes
/// the same way: UTF-8 with a BOM (without it, spreadsheet programs read the Chinese text in the local code page), CRLF
/// line ends, RFC 4180 quoting, culture-invariant numbers and dates, and free text that cannot run as a formula.
/// </summary>
public static class CsvExport
{
    public const string MediaType = "text/csv";
    public const string ContentType = "text/csv; charset=utf-8";

    /// <summary>
    /// Rows per database read of an export that walks a keyset-paged list: the largest page the JSON list serves, so
    /// that an export costs what paging through the list would, one bounded query at a time.
    /// </summary>
    public const int PageSize = PageRequest.MaxLimit;

    const string LineEnd = "\r\n";

    static readonly UTF8Encoding Utf8WithBom = new(encoderShouldEmitUTF8Identifier: true);

    /// <summary>
    /// The JSON operations answer JSON only; CSV has operations of its own, so that a generated client types each answer
    /// as one thing. A caller that prefers CSV to JSON (the media type of the two with the higher quality wins, the first
    /// named on a tie) is told with a 406 where the CSV is, rather than silently given JSON; <c>*/*</c>, no Accept or an
    /// Accept naming neither gets JSON.
    /// </summary>
    /// <param name="export">The path of the export operation that serves the same selection as CSV.</param>
    public static void RefuseCsv(HttpContext http, string export)
    {
        if (WantsCsv(http))
            throw new Problems.ProblemException(StatusCodes.Status406NotAcceptable, Problems.ProblemTypes.NotAcceptable,
                "This operation answers JSON only", $"The CSV of this selection is served by GET {export}, with the same query parameters.");
    }

    /// <summary>Whether the caller prefers CSV to JSON (see <see cref="RefuseCsv"/>).</summary>
    public static bool WantsCsv(HttpContext http)
    {
        // Whether the answer is JSON or a 406 depends on Accept: a cache must keep them apart.
        http.Response.Headers.Append(HeaderNames.Vary, HeaderNames.Accept);
        return http.Request.GetTypedHeaders().Accept
            .Where(a => (a.Quality ?? 1) > 0 && a.MediaType.Value is MediaType or "application/json")
            .OrderByDescending(a => a.Quality ?? 1)
            .FirstOrDefault() is { } best && best.MediaType.Value == MediaType;
    }

    /// <summary>
    /// The answer that streams <paramref name="rows"/> as a CSV download named <paramref name="fileName"/>, or as xlsx when
    /// the caller asks (see <see cref="ExportResult{T}"/>). Check the request before calling: once the first bytes are out,
    /// an error can only cut the download short, not become a problem.
    /// </summary>
    public static IResult File<T>(string fileName, IReadOnlyList<CsvColumn<T>> columns, IAsyncEnumerable<T> rows, CancellationToken ct)
        => new ExportResult<T>(fileName, columns, rows, ct);

    /// <summary>Writes the header and one line per row, as the rows arrive.</summary>
    public static async Task WriteAsync<T>(Stream output, IReadOnlyList<CsvColumn<T>> columns, IAsyncEnumerable<T> rows, CancellationToken ct)
    {
        // Not disposed on purpose: disposing flushes, and a failure before the first page (database unavailable) must
        // leave the response unstarted, so that it still becomes a problem answer instead of a file with only a header.
        var writer = new StreamWriter(output, Utf8WithBom, 1 << 16, leaveOpen: true);
        await writer.WriteAsync(Header(columns));
        var line = new StringBuilder();
        await foreach (var row in rows.WithCancellation(ct))
        {
            line.Clear();
            AppendLine(line, columns, row);
            await writer.WriteAsync(line, ct);
        }
        await writer.FlushAsync(ct);
    }

    /// <summary>The whole file as text (BOM included), for documentation examples.</summary>
    public static string Text<T>(IReadOnlyList<CsvColumn<T>> columns, params IEnumerable<T> rows)
    {
        var text = new StringBuilder("\uFEFF").Append(Header(columns));
        foreach (var row in rows) AppendLine(text, columns, row);
        return text.ToString();
    }

    /// <summary>The header line's column names, comma-separated (no line end).</summary>
    public static string HeaderText<T>(IReadOnlyList<CsvColumn<T>> columns) => string.Join(',', columns.Select(c => c.Name));

    static string Header<T>(IReadOnlyList<CsvColumn<T>> columns) => HeaderText(columns) + LineEnd;

    static void AppendLine<T>(StringBuilder line, IReadOnlyList<CsvColumn<T>> columns, T row)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (i > 0) line.Append(',');
            line.Append(Format(columns[i].Value(row)));
        }
        line.Append(LineEnd);
    }

    /// <summary>A value as the JSON answer writes it (true/false, invariant numbers, YYYY-MM-DD, ISO 8601 UTC); null is an empty field.</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        string text => Field(text),
        bool flag => flag ? "true" : "false",
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime instant => Instant(instant),
        // An enum's C# name is not its wire value (InProgress vs in_progress): columns pass EnumText.Format.
        Enum => throw new ArgumentException($"Format the {value.GetType().Name} with EnumText before exporting it.", nameof(value)),
        int or long or decimal => ((IFormattable)value).ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"No CSV format for {value.GetType().Name}.", nameof(value)),
    };

    /// <summary>An instant in UTC with as many fraction digits as it has, like the JSON answers (2025-10-08T01:00:00.5Z).</summary>
    public static string Instant(DateTime instant)
        => (instant.Kind == DateTimeKind.Local ? instant.ToUniversalTime() : instant)
            .ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Free text as an RFC 4180 field: quoted (inner quotes doubled) when it holds a comma, a quote or a line break.
    /// </summary>
    public static string Field(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        // A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one) as a formula
        // (CSV injection): a leading apostrophe makes it text.
        if (text[0] is '=' or '+' or '-' or '@' or '\t' or '\r') text = "'" + text;
        return text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// Every row of a keyset-paged list, one page per database read as the consumer asks for more: memory stays at one
    /// page, and a pooled connection is held while a page is read, not while a slow client downloads the file.
    /// </summary>
    /// <param name="readPage">Reads up to <c>limit</c> rows with a key after <c>after</c>, in key order.</param>
    public static async IAsyncEnumerable<T> KeysetAsync<T>(Func<long, int, CancellationToken, Task<IReadOnlyList<T>>> readPage, Func<T, long> key,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var after = 0L;
        while (true)
        {
            var page = await readPage(after, PageSize, ct);
            foreach (var row in page) yield return row;
            if (page.Count < PageSize) yield break;
            after = key(page[^1]);
        }
    }
}
