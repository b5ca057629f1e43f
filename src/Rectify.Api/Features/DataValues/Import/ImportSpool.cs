namespace Rectify.Api.Features.DataValues;

/// <summary>
/// The checked rows of a push, in a temporary file that deletes itself. The body is read to its end before the
/// database is touched, so a slow sender never holds a PostgreSQL connection, and the database work can be
/// repeated from the file after a transient error without asking the sender again.
/// </summary>
sealed class ImportSpool : IAsyncDisposable
{
    readonly FileStream _file;
    readonly BinaryWriter _writer;

    public long Count { get; private set; }

    ImportSpool(FileStream file)
    {
        _file = file;
        _writer = new BinaryWriter(new BufferedStream(file, 1 << 16), System.Text.Encoding.UTF8, leaveOpen: true);
    }

    public static ImportSpool Create() => new(TempFile("spool"));

    /// <summary>A temporary file readable by this process only, deleted when closed (at once where the system allows it).</summary>
    public static FileStream TempFile(string extension)
    {
        var path = Path.Combine(Path.GetTempPath(), $"rectify-push-{Guid.NewGuid():N}.{extension}");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 1 << 16,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
        };
        // Pushed data is for this process only.
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var file = new FileStream(path, options);
        // Unlinked at once where the system allows it: the open handle keeps working, and a process killed mid-push leaves no file behind.
        if (!OperatingSystem.IsWindows()) File.Delete(path);
        return file;
    }

    public void Write(in StagedRow row)
    {
        _writer.Write(row.Row);
        _writer.Write(row.IndicatorId);
        _writer.Write(row.Unit);
        _writer.Write(row.Period);
        _writer.Write(row.Value);
        _writer.Write(row.Comment is not null);
        if (row.Comment is not null) _writer.Write(row.Comment);
        Count++;
    }

    /// <summary>The rows from the start; each call reads the file again.</summary>
    public IEnumerable<StagedRow> Rows()
    {
        _writer.Flush();
        _file.Position = 0;
        using var reader = new BinaryReader(new BufferedStream(_file, 1 << 16), System.Text.Encoding.UTF8, leaveOpen: true);
        for (long i = 0; i < Count; i++)
        {
            var row = reader.ReadInt64();
            var indicatorId = reader.ReadInt64();
            var unit = reader.ReadString();
            var period = reader.ReadString();
            var value = reader.ReadDecimal();
            var comment = reader.ReadBoolean() ? reader.ReadString() : null;
            yield return new StagedRow(row, indicatorId, unit, period, value, comment);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await _file.DisposeAsync();
    }
}
