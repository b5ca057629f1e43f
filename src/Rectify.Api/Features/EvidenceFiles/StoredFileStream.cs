using System.Data;
using Npgsql;
using NpgsqlTypes;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.EvidenceFiles;

/// <summary>
/// The bytes of one stored file version as a stream of known length that can be positioned (for Range requests) and
/// reads the value in slices of 1 MiB: <c>substring(content FROM … FOR …)</c>, which on an uncompressed (EXTERNAL) value
/// fetches only the TOAST chunks of the slice, read with SequentialAccess so that a slice goes from the socket to the
/// caller's buffer without being held whole. The connection is opened at the first read and returned at disposal.
/// </summary>
sealed class StoredFileStream(Db db, long versionId, long size) : Stream
{
    const int SliceBytes = 1 << 20;

    const string SliceSql = "SELECT substring(content FROM @from FOR @count) FROM evidence_file_contents WHERE version_id = @id";

    NpgsqlConnection? _connection;
    NpgsqlCommand? _command;
    NpgsqlDataReader? _reader;
    Stream? _slice;
    long _position;
    long _sliceEnd;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= size || buffer.IsEmpty) return 0;
        if (_slice is null) await OpenSliceAsync(cancellationToken);
        var read = await _slice!.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _sliceEnd - _position)], cancellationToken);
        if (read == 0) throw new IOException($"File version {versionId} is shorter in the database than its recorded size.");
        _position += read;
        if (_position == _sliceEnd) await CloseSliceAsync();
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    async Task OpenSliceAsync(CancellationToken ct)
    {
        _connection ??= await db.OpenReadConnectionAsync(ct);
        var count = (int)Math.Min(SliceBytes, size - _position);
        _command = new NpgsqlCommand(SliceSql, _connection);
        _command.Parameters.Add(new NpgsqlParameter("from", NpgsqlDbType.Integer) { Value = checked((int)_position + 1) });
        _command.Parameters.Add(new NpgsqlParameter("count", NpgsqlDbType.Integer) { Value = count });
        _command.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Bigint) { Value = versionId });
        _reader = await _command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, ct);
        if (!await _reader.ReadAsync(ct)) throw new IOException($"File version {versionId} has no stored bytes.");
        _slice = await _reader.GetStreamAsync(0, ct);
        _sliceEnd = _position + count;
    }

    async ValueTask CloseSliceAsync()
    {
        if (_slice is not null) await _slice.DisposeAsync();
        if (_reader is not null) await _reader.DisposeAsync();
        if (_command is not null) await _command.DisposeAsync();
        (_slice, _reader, _command) = (null, null, null);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => size + offset,
        };
        if (target < 0 || target > size) throw new ArgumentOutOfRangeException(nameof(offset));
        if (target != _position) CloseSlice();
        return _position = target;
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseSliceAsync();
        if (_connection is not null) await _connection.DisposeAsync();
        _connection = null;
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseSlice();
            _connection?.Dispose();
            _connection = null;
        }
        base.Dispose(disposing);
    }

    void CloseSlice()
    {
        _slice?.Dispose();
        _reader?.Dispose();
        _command?.Dispose();
        (_slice, _reader, _command) = (null, null, null);
    }

    /// <summary>Downloads read asynchronously; a synchronous read would block a thread on the database.</summary>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read the stored file asynchronously.");

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => size;
    public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
