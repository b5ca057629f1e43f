using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Rectify.Push;

/// <summary>The file changed between computing its key and sending it; sending it under that key would be a lie.</summary>
public sealed class FileChangedException(string message) : IOException(message);

/// <summary>
/// The file to push: opened afresh for every read, so that it is hashed once and streamed once per attempt without
/// ever being held in memory.
/// </summary>
public sealed class PushFile
{
    const int BufferSize = 81_920;

    readonly string _path;
    long _length;
    DateTime _lastWriteUtc;

    public PushFile(string path) => _path = path;

    public string Path => _path;

    public string Name => System.IO.Path.GetFileName(_path);

    /// <summary>
    /// Hex SHA-256 of the options that change what the server does, then of the file's bytes. The same file pushed
    /// the same way gives the same key, so that a second run is a replay on the server and not a second write; any
    /// changed byte or option gives another. Remembers the file's length and time so that later reads can tell
    /// whether the file changed since.
    /// </summary>
    public async Task<string> IdempotencyKeyAsync(PushOptions options, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(Describe(options)));

        await using var stream = Open();
        var lengthBefore = stream.Length;
        var lastWriteBefore = File.GetLastWriteTimeUtc(_path);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, BufferSize), ct)) > 0)
                hash.AppendData(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _length = lengthBefore;
        _lastWriteUtc = lastWriteBefore;
        if (stream.Length != lengthBefore || File.GetLastWriteTimeUtc(_path) != lastWriteBefore)
            throw new FileChangedException($"{Name} changed while it was being read; is it still being written?");
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>A fresh stream over the file for one attempt, after checking it is the file that was hashed.</summary>
    public FileStream OpenUnchanged()
    {
        var stream = Open();
        if (stream.Length != _length || File.GetLastWriteTimeUtc(_path) != _lastWriteUtc)
        {
            stream.Dispose();
            throw new FileChangedException($"{Name} changed after its idempotency key was computed; push it again.");
        }
        return stream;
    }

    FileStream Open() => new(_path, new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.Read,
        BufferSize = BufferSize,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
    });

    /// <summary>
    /// One line per option, values escaped so that no value can imitate another line, ended by an empty line: the
    /// prefix cannot be confused with the start of the file. Newlines are spelled out rather than taken from a raw
    /// string, whose line endings would follow the checkout's and change every key on another platform. The server
    /// address is left out on purpose, so that the same push through another name for the same server is a replay.
    /// </summary>
    static string Describe(PushOptions options) => string.Join('\n',
        "rectify-push/1",
        "POST /api/v1/data-values/import",
        "format=" + PushOptions.Name(options.Format),
        "strategy=" + PushOptions.Name(options.Strategy),
        "atomic=" + (options.Atomic ? "true" : "false"),
        "dryRun=" + (options.DryRun ? "true" : "false"),
        "revisionReason=" + Uri.EscapeDataString(options.RevisionReason ?? ""),
        "",
        "");
}
