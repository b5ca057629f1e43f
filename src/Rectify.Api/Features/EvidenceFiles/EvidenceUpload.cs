using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.EvidenceFiles;

/// <summary>
/// An uploaded file, read from the request to its end before the database is touched: spooled to a temporary file that
/// deletes itself (a slow sender never holds a connection, and memory stays at one buffer), counted against the size
/// limit while it streams, hashed (SHA-256) on the way, and recognised by its bytes.
/// </summary>
public sealed class EvidenceUpload : IAsyncDisposable
{
    const int BufferSize = 64 * 1024;

    /// <summary>What a multipart body may carry besides the file (boundaries, part headers).</summary>
    const long MultipartOverhead = 64 * 1024;

    readonly FileStream _file;

    EvidenceUpload(FileStream file, long size, string sha256, string fileName, FileKind kind)
        => (_file, Size, Sha256, FileName, Kind) = (file, size, sha256, fileName, kind);

    public long Size { get; }
    public string Sha256 { get; }
    public string FileName { get; }
    public FileKind Kind { get; }

    /// <summary>The bytes from the start (each call rewinds: a retried write reads them again).</summary>
    public Stream Content()
    {
        _file.Position = 0;
        return _file;
    }

    /// <summary>
    /// Reads the file of the request: the raw body (its Content-Type the declared type, its name from Content-Disposition
    /// or <paramref name="queryName"/>) or the first file part of a multipart/form-data body. 413 past
    /// <paramref name="maxBytes"/> (a declared Content-Length before reading), 415 for a type outside the allow-list
    /// or bytes of none of its kinds, 422 when the bytes are of another kind than declared.
    /// </summary>
    public static async Task<EvidenceUpload> ReadAsync(HttpContext http, string? queryName, long maxBytes, CancellationToken ct)
    {
        var request = http.Request;
        var multipart = MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
            && media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        var bodyLimit = multipart ? maxBytes + MultipartOverhead : maxBytes;
        if (request.ContentLength > bodyLimit) throw TooLarge(maxBytes);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = bodyLimit;

        if (!multipart)
        {
            var declared = CheckDeclared(request.ContentType);
            return await SpoolAsync(request.Body, declared, NameOf(request.Headers.ContentDisposition, queryName), maxBytes, ct);
        }

        var boundary = HeaderUtilities.RemoveQuotes(media!.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw NoFilePart();
        var reader = new MultipartReader(boundary, request.Body);
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.IsFileDisposition()) continue;
            var declared = CheckDeclared(section.ContentType);
            var name = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
            return await SpoolAsync(section.Body, declared, queryName ?? name, maxBytes, ct);
        }
        throw NoFilePart();
    }

    /// <summary>The declared type: an allowed kind, or null for application/octet-stream (the bytes decide); else 415.</summary>
    static FileKind? CheckDeclared(string? contentType)
    {
        if (FileKinds.IsUnspecified(contentType)) return null;
        return FileKinds.Declared(contentType) ?? throw Unsupported(new Text("The declared type '{0}' is not one evidence files may have.",
            contentType ?? "(none)"));
    }

    static string? NameOf(string? contentDisposition, string? queryName)
    {
        if (queryName is not null) return queryName;
        if (!ContentDispositionHeaderValue.TryParse(contentDisposition, out var disposition)) return null;
        return disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
    }

    static async Task<EvidenceUpload> SpoolAsync(Stream body, FileKind? declared, string? name, long maxBytes, CancellationToken ct)
    {
        var file = CreateSpool();
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[BufferSize];
            var header = new byte[FileKinds.HeaderLength];
            long size = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                if (size < header.Length) buffer.AsSpan(0, (int)Math.Min(read, header.Length - size)).CopyTo(header.AsSpan((int)size));
                size += read;
                if (size > maxBytes) throw TooLarge(maxBytes);
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
            }
            await file.FlushAsync(ct);
            var kind = FileKinds.Detect(header.AsSpan(0, (int)Math.Min(size, header.Length)), file);
            if (kind is null && declared is null)
                throw Unsupported("The bytes are none of the kinds evidence files may have (PDF, PNG, JPEG, DOCX, XLSX, OFD).");
            if (declared is not null && kind != declared)
                throw new ProblemException(StatusCodes.Status422UnprocessableEntity, ProblemTypes.FileContentMismatch,
                    ProblemTypes.Title(ProblemTypes.FileContentMismatch)!,
                    new Text("The file was declared {0} but its bytes are {1}.", declared.MediaType, kind?.Name ?? "none of the allowed kinds"));
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            return new EvidenceUpload(file, size, sha256, FileNames.Sanitise(name, kind!), kind!);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    static FileStream CreateSpool()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rectify-evidence-{Guid.NewGuid():N}.spool");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 0,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var file = new FileStream(path, options);
        if (!OperatingSystem.IsWindows()) File.Delete(path); // the open handle keeps working; a killed process leaves nothing
        return file;
    }

    static ProblemException TooLarge(long maxBytes) => new(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge,
        "The request body is too large", new Text("An evidence file may be at most {0} bytes.", maxBytes));

    static ProblemException Unsupported(Text detail)
        => new(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType, "Unsupported media type", detail);

    static ProblemException NoFilePart() => Problem.Validation("file",
        "A multipart/form-data upload needs one part with a file (Content-Disposition: form-data; name=\"file\"; filename=\"…\").");

    public ValueTask DisposeAsync() => _file.DisposeAsync();
}

/// <summary>File names as kept and as sent back: sanitised on the way in, RFC 6266/5987 on the way out.</summary>
public static class FileNames
{
    const int MaxLength = 200;

    /// <summary>
    /// The last path segment, without control characters and those file systems refuse (<c>\ / : * ? " &lt; &gt; |</c>),
    /// trimmed, NFC, at most 200 characters (the extension kept); <c>evidence.ext</c> when nothing is left.
    /// </summary>
    public static string Sanitise(string? name, FileKind kind)
    {
        var text = (name ?? "").Normalize(NormalizationForm.FormC);
        text = text[(text.LastIndexOfAny(['/', '\\']) + 1)..];
        var kept = new StringBuilder(text.Length);
        foreach (var c in text) if (!char.IsControl(c) && "\\/:*?\"<>|".IndexOf(c) < 0) kept.Append(c);
        text = kept.ToString().Trim().Trim('.').Trim();
        if (text.Length == 0) return "evidence" + kind.Extension;
        if (text.Length <= MaxLength) return text;
        var extension = Path.GetExtension(text);
        if (extension.Length > 16) extension = "";
        var stem = text[..(MaxLength - extension.Length)];
        if (char.IsHighSurrogate(stem[^1])) stem = stem[..^1];
        return stem + extension;
    }

    /// <summary><c>attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded</c> (RFC 6266, RFC 5987).</summary>
    public static string Attachment(string name)
    {
        var fallback = new StringBuilder(name.Length);
        foreach (var c in name) fallback.Append(c is >= ' ' and <= '~' and not '"' and not '\\' and not '%' ? c : '_');
        return $"attachment; filename=\"{fallback}\"; filename*=UTF-8''{Uri.EscapeDataString(name)}";
    }
}
