namespace Rectify.Api.Infrastructure.Database;

public static class TextSearch
{
    /// <summary>
    /// An ILIKE pattern that finds <paramref name="text"/> anywhere, with LIKE's wildcards in the caller's text
    /// escaped so that <c>%</c> and <c>_</c> match themselves. Works for Chinese text (no word splitting needed).
    /// </summary>
    public static string? ContainsPattern(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var escaped = text.Trim().Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal)
            .Replace("_", @"\_", StringComparison.Ordinal);
        return $"%{escaped}%";
    }
}
