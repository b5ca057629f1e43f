using System.Buffers.Binary;

namespace Rectify.Api.Features.EvidenceFiles;

/// <summary>A kind of file evidence may be: its media type and the extension a file of it carries.</summary>
public sealed record FileKind(string MediaType, string Extension, string Name);

/// <summary>
/// The allow-list of evidence files, recognised by their bytes: PDF (%PDF-), PNG, JPEG, and the zip-based DOCX, XLSX
/// and OFD (GB/T 33190), told apart by the entries of the zip's central directory. The declared type is only a claim.
/// </summary>
public static class FileKinds
{
    public static readonly FileKind Pdf = new("application/pdf", ".pdf", "PDF");
    public static readonly FileKind Png = new("image/png", ".png", "PNG");
    public static readonly FileKind Jpeg = new("image/jpeg", ".jpg", "JPEG");
    public static readonly FileKind Docx = new("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", "DOCX");
    public static readonly FileKind Xlsx = new("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", "XLSX");
    public static readonly FileKind Ofd = new("application/ofd", ".ofd", "OFD");

    public static readonly IReadOnlyList<FileKind> All = [Pdf, Png, Jpeg, Docx, Xlsx, Ofd];

    /// <summary>Declared by a sender that does not know the type (a browser, a generic client): the bytes say which it is.</summary>
    public const string Unspecified = "application/octet-stream";

    /// <summary>How many leading bytes <see cref="Detect"/> looks at.</summary>
    public const int HeaderLength = 8;

    /// <summary>Central directory entries looked at, at most: enough for any real document, bounded for a crafted one.</summary>
    const int MaxZipEntries = 20_000;

    /// <summary>The allowed kind of the declared media type (parameters ignored), or null.</summary>
    public static FileKind? Declared(string? mediaType)
    {
        var media = mediaType?.Split(';')[0].Trim();
        return All.FirstOrDefault(k => string.Equals(k.MediaType, media, StringComparison.OrdinalIgnoreCase));
    }

    public static bool IsUnspecified(string? mediaType)
        => string.Equals(mediaType?.Split(';')[0].Trim(), Unspecified, StringComparison.OrdinalIgnoreCase);

    /// <summary>The kind of the file in <paramref name="file"/> (seekable, positioned anywhere), or null when none of the allowed ones.</summary>
    public static FileKind? Detect(ReadOnlySpan<byte> header, Stream file)
    {
        if (header.StartsWith("%PDF-"u8)) return Pdf;
        if (header.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return Png;
        if (header.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return Jpeg;
        if (header.StartsWith("PK\u0003\u0004"u8)) return ZipKind(file);
        return null;
    }

    /// <summary>
    /// DOCX, XLSX or OFD from the zip's central directory, read with bounds and no decompression: the end record is
    /// looked for in the last 64 KiB, the directory must lie inside the file before it, and the entries are read one by
    /// one (names only) up to <see cref="MaxZipEntries"/>. Anything malformed is no kind. Zip64 is not needed for the
    /// sizes evidence files have, and is not accepted.
    /// </summary>
    static FileKind? ZipKind(Stream file)
    {
        const int EndLength = 22;
        var length = file.Length;
        if (length < EndLength) return null;
        var tailLength = (int)Math.Min(length, EndLength + ushort.MaxValue);
        var tail = new byte[tailLength];
        file.Position = length - tailLength;
        file.ReadExactly(tail);
        var end = -1;
        for (var i = tailLength - EndLength; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == 0x06054b50) { end = i; break; }
        }
        if (end < 0) return null;
        var entries = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(end + 10));
        var directorySize = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end + 12));
        var directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end + 16));
        var endPosition = length - tailLength + end;
        if (directoryOffset + (long)directorySize > endPosition) return null;

        bool contentTypes = false, word = false, excel = false, ofd = false;
        file.Position = directoryOffset;
        var entry = new byte[46];
        var name = new byte[ushort.MaxValue];
        long read = 0;
        for (var i = 0; i < Math.Min((int)entries, MaxZipEntries); i++)
        {
            if (read + entry.Length > directorySize) return null;
            file.ReadExactly(entry);
            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) != 0x02014b50) return null;
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(entry.AsSpan(28));
            var skip = BinaryPrimitives.ReadUInt16LittleEndian(entry.AsSpan(30)) + BinaryPrimitives.ReadUInt16LittleEndian(entry.AsSpan(32));
            read += entry.Length + nameLength + skip;
            if (read > directorySize) return null;
            var entryName = name.AsSpan(0, nameLength);
            file.ReadExactly(entryName);
            file.Position += skip;
            contentTypes |= entryName.SequenceEqual("[Content_Types].xml"u8);
            word |= entryName.StartsWith("word/"u8);
            excel |= entryName.StartsWith("xl/"u8);
            ofd |= entryName.SequenceEqual("OFD.xml"u8);
        }
        if (ofd) return Ofd;
        if (contentTypes && word) return Docx;
        if (contentTypes && excel) return Xlsx;
        return null;
    }
}
