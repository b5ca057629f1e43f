using Microsoft.Net.Http.Headers;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>
/// Optimistic concurrency: every versioned row carries a <c>version</c> that each update increments; its strong
/// ETag is <c>"{version}"</c>. Updates must send it back in If-Match.
/// </summary>
public static class ETags
{
    public static string For(int version) => $"\"{version}\"";

    /// <summary>Sets the ETag header of a single-resource answer.</summary>
    public static void Set(HttpContext http, int version) => http.Response.Headers.ETag = For(version);

    /// <summary>
    /// The version the caller expects, from If-Match: 428 when it is missing, null for <c>*</c> (any version),
    /// 412 when it cannot match any version.
    /// </summary>
    public static int? RequiredVersion(HttpContext http)
    {
        var header = http.Request.Headers.IfMatch;
        if (header.Count == 0 || string.IsNullOrWhiteSpace(header.ToString())) throw Problem.PreconditionRequired();
        if (!EntityTagHeaderValue.TryParseList(header, out var tags) || tags.Count == 0) throw Problem.PreconditionFailed();
        if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any))) return null;
        // Several ETags may be listed; a versioned resource matches one version only, so the first strong one is used.
        foreach (var tag in tags)
        {
            if (!tag.IsWeak && int.TryParse(tag.Tag.AsSpan().Trim('"'), out var version)) return version;
        }
        throw Problem.PreconditionFailed();
    }

    /// <summary>Whether an If-Match or If-None-Match header names <paramref name="tag"/> (or is <c>*</c>).</summary>
    public static bool Matches(Microsoft.Extensions.Primitives.StringValues header, string tag)
        => EntityTagHeaderValue.TryParseList(header, out var tags)
           && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Equals(tag, StringComparison.Ordinal));

    /// <summary>For actions (review, close, progress): If-Match is checked when sent, not required (a blank one is not sent).</summary>
    public static int? OptionalVersion(HttpContext http)
        => string.IsNullOrWhiteSpace(http.Request.Headers.IfMatch.ToString()) ? null : RequiredVersion(http);
}
