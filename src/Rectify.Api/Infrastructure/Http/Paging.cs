using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>A page of a list and the opaque cursor of the next page (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>Keyset paging parameters shared by every list: each list's query record adds its filters to these.</summary>
public record PageRequest
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    [Description("Largest number of items to return (1–200).")]
    [DefaultValue(DefaultLimit)]
    [Range(1, MaxLimit, ErrorMessage = "limit must be between 1 and 200.")]
    public int? Limit { get; init; }

    [Description("Opaque cursor from the previous page's nextCursor; omit for the first page.")]
    public string? Cursor { get; init; }

    /// <summary>The page size asked for, else the default; its range is checked by request validation (the attribute above).</summary>
    public int EffectiveLimit => Limit ?? DefaultLimit;

    /// <summary>The id after which the page starts (keyset: <c>WHERE id &gt; @after ORDER BY id</c>).</summary>
    public long After => Cursor is null ? 0 : long.TryParse(Cursors.Decode(Cursor), out var id) && id >= 0 ? id : throw Cursors.Invalid();

    /// <summary>The text key after which the page starts, for lists keyed by code.</summary>
    public string AfterKey => Cursor is null ? "" : Cursors.Decode(Cursor);
}

public static class Cursors
{
    const string Prefix = "k1:";

    public static string Encode(object lastKey)
        => Convert.ToBase64String(Encoding.UTF8.GetBytes(Prefix + Convert.ToString(lastKey, System.Globalization.CultureInfo.InvariantCulture)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static ProblemException Invalid()
        => Problem.Validation("cursor", "The cursor is not one this service issued: use nextCursor from a previous page.");

    public static string Decode(string cursor)
    {
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(base64));
            if (text.StartsWith(Prefix, StringComparison.Ordinal)) return text[Prefix.Length..];
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
        }
        throw Invalid();
    }

    /// <summary>Builds a page from rows fetched with <c>LIMIT limit + 1</c>: the extra row only tells that more exist.</summary>
    public static Page<T> ToPage<TRow, T>(IReadOnlyList<TRow> rows, int limit, Func<TRow, object> key, Func<TRow, T> map)
    {
        var items = rows.Take(limit).Select(map).ToList();
        var next = rows.Count > limit ? Encode(key(rows[limit - 1])) : null;
        return new Page<T>(items, next);
    }
}
