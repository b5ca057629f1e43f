using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Tests.Workbooks;

/// <summary>The shared xlsx writer on its own: it writes forward, asynchronously, to a stream that cannot seek (a response body).</summary>
public sealed class ExportWriterTests
{
    sealed record Row(long Id, string Title, decimal Value, DateOnly Due, DateTime At, bool Flag, string? Note);

    static readonly CsvColumn<Row>[] Columns =
    [
        new("id", r => r.Id), new("title", r => r.Title), new("value", r => r.Value), new("dueDate", r => r.Due),
        new("updatedAt", r => r.At), new("overdue", r => r.Flag), new("comment", r => r.Note),
    ];

    /// <summary>A response body: forward only, and synchronous writes fail as Kestrel's do.</summary>
    sealed class ResponseLikeStream : Stream
    {
        public MemoryStream Data { get; } = new();
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("Synchronous write");
        public override void Flush() => throw new InvalidOperationException("Synchronous flush");
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Data.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Rows_stream_as_typed_cells_to_a_forward_only_stream()
    {
        var rows = Enumerable.Range(1, 500).Select(i => new Row(i, i == 1 ? "=HYPERLINK(\"x\")" : "殡葬改革推行不力", i / 8m,
            new DateOnly(2025, 6, 15), new DateTime(2025, 6, 15, 1, 2, 3, DateTimeKind.Utc), i % 2 == 0, null));
        var output = new ResponseLikeStream();
        await XlsxExport.WriteAsync(output, Columns, rows.ToAsyncEnumerable(), chinese: true, TestContext.Current.CancellationToken);

        var sheet = WorkbookKit.Read(output.Data.ToArray());
        Assert.Equal(["编号", "标题", "数值", "完成时限", "更新时间(UTC)", "是否逾期", "备注"], sheet[0].Values.Select(v => (string)v!).ToArray());
        Assert.Equal(501, sheet.Count);
        var first = sheet[1];
        Assert.Equal((1d, "=HYPERLINK(\"x\")", 0.125d), (first["A"], first["B"], first["C"])); // text stays text, not a formula
        Assert.Equal(new DateTime(2025, 6, 15), first["D"]);
        Assert.Equal(new DateTime(2025, 6, 15, 1, 2, 3), first["E"]);
        Assert.Equal(false, first["F"]);
        Assert.Null(first["G"]);
    }
}
