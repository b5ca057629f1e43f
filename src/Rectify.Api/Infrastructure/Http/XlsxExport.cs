using System.Globalization;
using SpreadCheetah;
using SpreadCheetah.Styling;
using SpreadCheetah.Worksheets;

namespace Rectify.Api.Infrastructure.Http;

/// <summary>
/// Every export as an Excel workbook, from the same columns and rows as its CSV (<see cref="CsvExport"/>): one sheet,
/// streamed to the caller as rows arrive (SpreadCheetah writes the zip forward, without holding the rows), the header
/// frozen, numbers as numbers, dates as dates (instants in UTC), columns as wide as the first rows need. With Chinese
/// headers the columns carry their names from <see cref="ExportHeaders"/>.
/// </summary>
public static class XlsxExport
{
    public const string MediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>Rows read before the sheet starts, to size the columns (the rest stream through).</summary>
    const int SizingRows = 200;

    public static async Task WriteAsync<T>(Stream output, IReadOnlyList<CsvColumn<T>> columns, IAsyncEnumerable<T> rows, bool chinese,
        CancellationToken ct)
    {
        var headers = columns.Select(c => chinese ? ExportHeaders.Chinese(c.Name) : c.Name).ToArray();
        await using var enumerator = rows.GetAsyncEnumerator(ct);
        // Read before anything is written: a failure here (database unavailable) still becomes a problem answer.
        var first = new List<object?[]>();
        var more = true;
        while (first.Count < SizingRows && (more = await enumerator.MoveNextAsync()))
            first.Add(columns.Select(c => c.Value(enumerator.Current)).ToArray());

        var forward = new WriteBehindStream(output);
        await using (var book = await Spreadsheet.CreateNewAsync(forward, new SpreadCheetahOptions { BufferSize = 1 << 16 }, ct))
            await WriteSheetAsync(book, forward, columns, headers, first, more ? enumerator : null, ct);
        await forward.DrainAsync(ct);
    }

    static async Task WriteSheetAsync<T>(Spreadsheet book, WriteBehindStream forward, IReadOnlyList<CsvColumn<T>> columns, string[] headers,
        List<object?[]> first, IAsyncEnumerator<T>? rest, CancellationToken ct)
    {
        var options = new WorksheetOptions { FrozenRows = 1 };
        for (var i = 0; i < columns.Count; i++)
            options.Column(i + 1).Width = Width(first.Select(r => r[i]).Prepend(headers[i]));
        await book.StartWorksheetAsync("Sheet1", options, ct);
        var styles = new Styles(book);
        await book.AddRowAsync(headers.Select(h => new Cell(h, styles.Header)).ToArray(), ct);

        var cells = new Cell[columns.Count];
        foreach (var row in first) await AddAsync(book, cells, row, styles, ct);
        var values = new object?[columns.Count];
        while (rest is not null && await rest.MoveNextAsync())
        {
            for (var i = 0; i < columns.Count; i++) values[i] = columns[i].Value(rest.Current);
            await AddAsync(book, cells, values, styles, ct);
            await forward.DrainAsync(ct);
        }
        await book.FinishAsync(ct);
    }

    static ValueTask AddAsync(Spreadsheet book, Cell[] cells, object?[] values, Styles styles, CancellationToken ct)
    {
        for (var i = 0; i < values.Length; i++) cells[i] = CellOf(values[i], styles);
        return book.AddRowAsync(cells, ct);
    }

    /// <summary>A value as a typed cell; free text stays text (a workbook does not run an inline string as a formula).</summary>
    public static Cell CellOf(object? value, Styles styles) => value switch
    {
        null => new Cell(),
        string text => new Cell(text),
        bool flag => new Cell(flag),
        int number => new Cell(number),
        long number => new Cell(number),
        decimal number => new Cell(number),
        DateOnly date => new Cell(date.ToDateTime(TimeOnly.MinValue), styles.Date),
        DateTime instant => new Cell(instant.Kind == DateTimeKind.Local ? instant.ToUniversalTime() : instant, styles.Instant),
        _ => new Cell(CsvExport.Format(value)),
    };

    /// <summary>Characters a column needs for its widest value (a Chinese character counts two), within 8 and 60.</summary>
    public static double Width(IEnumerable<object?> values)
        => Math.Clamp(values.Max(v => DisplayWidth(v switch
        {
            null => "",
            DateOnly => "2025-06-15",
            DateTime => "2025-06-15 00:00:00",
            string text => text.Length > 120 ? text[..120] : text,
            _ => CsvExport.Format(v),
        })) + 2, 8, 60);

    static int DisplayWidth(string text) => text.Sum(c => c >= '\u2E80' ? 2 : 1);

    /// <summary>The styles a sheet's cells use, added to the workbook once.</summary>
    public sealed class Styles(Spreadsheet book)
    {
        public StyleId Header { get; } = book.AddStyle(new Style { Font = { Bold = true } });
        public StyleId Date { get; } = book.AddStyle(new Style { Format = NumberFormat.Custom("yyyy-mm-dd") });
        public StyleId Instant { get; } = book.AddStyle(new Style { Format = NumberFormat.Custom("yyyy-mm-dd hh:mm:ss") });
    }
}

/// <summary>
/// The zip writer under SpreadCheetah writes its small records (entry headers, data descriptors, the central directory)
/// synchronously, which a response body refuses: those bytes wait here and go out asynchronously at the next
/// asynchronous write or <see cref="DrainAsync"/>. The compressed sheet itself passes through as it is written.
/// </summary>
public sealed class WriteBehindStream(Stream inner) : Stream
{
    readonly MemoryStream _pending = new();
    long _written;

    public async Task DrainAsync(CancellationToken ct)
    {
        if (_pending.Length == 0) return;
        await inner.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), ct);
        _pending.SetLength(0);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _pending.Write(buffer);
        _written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await DrainAsync(cancellationToken);
        await inner.WriteAsync(buffer, cancellationToken);
        _written += buffer.Length;
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _written; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>The Chinese names of the export columns (headers=zh); a column without one keeps its field name.</summary>
public static class ExportHeaders
{
    static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["id"] = "编号", ["code"] = "代码", ["round"] = "巡视轮次", ["parentId"] = "上级问题编号", ["title"] = "标题", ["category"] = "类别",
        ["description"] = "描述", ["leadUnit"] = "牵头单位", ["responsibleLeader"] = "责任领导", ["state"] = "状态", ["dueDate"] = "完成时限",
        ["originalDueDate"] = "原定时限", ["deferralCount"] = "延期次数", ["overdue"] = "是否逾期", ["progress"] = "进度(%)",
        ["measureCount"] = "措施数", ["trafficLight"] = "红黄绿灯", ["warningLevel"] = "预警等级", ["createdAt"] = "创建时间(UTC)",
        ["updatedAt"] = "更新时间(UTC)", ["issueId"] = "问题编号", ["issueCode"] = "问题代码", ["ownerUnit"] = "责任单位",
        ["startDate"] = "开始日期", ["completedOn"] = "完成日期", ["cancelReason"] = "取消原因", ["reviewRequestedAt"] = "申请销号时间(UTC)",
        ["reviewRequestedBy"] = "申请销号方", ["reviewer"] = "审核人", ["closedOn"] = "销号日期", ["conclusion"] = "审核结论",
        ["reviewNote"] = "审核意见", ["indicator"] = "指标代码", ["unit"] = "单位代码", ["period"] = "期间", ["value"] = "数值",
        ["comment"] = "备注", ["source"] = "来源", ["revision"] = "版次", ["status"] = "快照状态", ["issueTitle"] = "问题标题",
        ["issueState"] = "问题状态", ["measureId"] = "措施编号", ["measureCode"] = "措施代码", ["latestNote"] = "最新进展",
        ["kind"] = "类型", ["daysLeft"] = "剩余天数", ["level"] = "预警等级", ["since"] = "预警起始日期", ["escalateTo"] = "上报至",
        ["escalationTarget"] = "上报对象", ["watchUntil"] = "巩固观察截止日期", ["consolidating"] = "是否巩固中",
    };

    public static string Chinese(string field) => Names.GetValueOrDefault(field, field);

    /// <summary>Whether <paramref name="field"/> has a Chinese name (a test walks every export's columns).</summary>
    public static bool Has(string field) => Names.ContainsKey(field);
}

/// <summary>
/// The answer of an export operation: CSV, or xlsx when the query says <c>format=xlsx</c> or Accept prefers the xlsx
/// media type; <c>headers=zh</c> gives Chinese column names. Both are checked before the first byte is written.
/// </summary>
public sealed class ExportResult<T>(string fileName, IReadOnlyList<CsvColumn<T>> columns, IAsyncEnumerable<T> rows, CancellationToken ct) : IResult
{
    public async Task ExecuteAsync(HttpContext http)
    {
        var (xlsx, chinese) = ExportFormat.Of(http);
        var name = xlsx ? Path.ChangeExtension(fileName, ".xlsx") : fileName;
        http.Response.ContentType = xlsx ? XlsxExport.MediaType : CsvExport.ContentType;
        var disposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(name);
        http.Response.Headers.ContentDisposition = disposition.ToString();
        var body = http.Response.Body;
        if (xlsx) await XlsxExport.WriteAsync(body, columns, rows, chinese, ct);
        else
        {
            var named = chinese ? columns.Select(c => c with { Name = ExportHeaders.Chinese(c.Name) }).ToArray() : columns;
            await CsvExport.WriteAsync(body, named, rows, ct);
        }
    }
}

/// <summary>The format options of an export (format, headers, Accept).</summary>
public static class ExportFormat
{
    public static (bool Xlsx, bool Chinese) Of(HttpContext http)
    {
        http.Response.Headers.Append(Microsoft.Net.Http.Headers.HeaderNames.Vary, Microsoft.Net.Http.Headers.HeaderNames.Accept);
        var query = http.Request.Query;
        var format = query["format"].ToString();
        var headers = query["headers"].ToString();
        var errors = new Dictionary<string, Text[]>();
        if (format is not ("" or "csv" or "xlsx")) errors["format"] = [$"'{format}' is not a format: use csv or xlsx."];
        if (headers is not ("" or "en" or "zh")) errors["headers"] = [$"'{headers}' is not a header language: use en or zh."];
        if (errors.Count > 0) throw Refuse.Invalid(errors);
        var xlsx = format == "xlsx" || format == "" && PrefersXlsx(http);
        return (xlsx, headers == "zh");
    }

    static bool PrefersXlsx(HttpContext http) => http.Request.GetTypedHeaders().Accept
        .Where(a => (a.Quality ?? 1) > 0 && a.MediaType.Value is CsvExport.MediaType or XlsxExport.MediaType)
        .OrderByDescending(a => a.Quality ?? 1)
        .FirstOrDefault() is { } best && best.MediaType.Value == XlsxExport.MediaType;
}
