using System.Security.Cryptography;
using System.Text;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.DataValues;

/// <summary>
/// A push's request body as the endpoint hands it to the import: counted against the body cap (a 413 past it, for a
/// chunked body and for servers without Kestrel's limit feature) and hashed, with what else identifies the request,
/// for the Idempotency-Key check.
/// </summary>
sealed class ImportBody : Stream
{
    readonly Stream _inner;
    readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly long _maxBytes;
    long _read;
    byte[]? _digest;

    /// <param name="identity">What besides the body makes the request (its content type and query string).</param>
    public ImportBody(Stream inner, long maxBytes, string identity)
    {
        (_inner, _maxBytes) = (inner, maxBytes);
        _hash.AppendData(Encoding.UTF8.GetBytes(identity));
    }

    /// <summary>The request's hash, once the body has been read to its end.</summary>
    public byte[] Hash => _digest ??= _hash.GetHashAndReset();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inner.ReadAsync(buffer, cancellationToken);
        return Passed(buffer.Span, read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Passed(buffer.AsSpan(offset, count), _inner.Read(buffer, offset, count));

    int Passed(ReadOnlySpan<byte> buffer, int read)
    {
        _read += read;
        if (_read > _maxBytes)
            throw new ProblemException(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "The request body is too large",
                $"A push may be at most {_maxBytes} bytes: split it into several pushes.");
        _hash.AppendData(buffer[..read]);
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose(); // the request's own stream is the server's to close
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
