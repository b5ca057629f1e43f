using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Xml;
using MiniExcelLibs;
using MiniExcelLibs.OpenXml;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.DataValues;

/// <summary>What an xlsx push reads: the sheet (null: the first), whether values may be empty, and the caps.</summary>
readonly record struct WorkbookLimits(string? Sheet, bool Deleting, long MaxRows, long MaxExpandedBytes);

/// <summary>
/// Reads an xlsx push (an Excel workbook) row by row into the same rows as a CSV push, so that the catalogue checks
/// them alike. The body is spooled to a temporary file (a zip is read from its end), its parts are checked before any
/// is decompressed (an OLE file is an encrypted workbook or an .xls; a part that expands far beyond its compressed size
/// is a zip bomb), then MiniExcel streams the sheet's rows without building the workbook in memory. Columns A–E are
/// indicator, unit, period, value and comment under a header row (English or Chinese names); columns to the right are
/// ignored (the template puts indicator names and units of measure there). Rows are named by their sheet row number.
/// </summary>
static class ImportWorkbook
{
    public const string MediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>The header in Chinese, column for column with <see cref="ImportReaders.CsvHeader"/>.</summary>
    public const string ChineseHeader = "指标代码,单位代码,期间,数值,备注";

    const int Columns = 5;
    const int MaxCellChars = 1 << 20;
    // A part may expand to this many times its compressed size once it is larger than 1 MB: an xlsx's XML compresses
    // 5–30×; a zip bomb by thousands.
    const long MaxRatio = 200;
    const long RatioFloor = 1 << 20;

    static readonly byte[] OleSignature = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    static readonly byte[] ZipSignature = [0x50, 0x4B, 0x03, 0x04];
    static readonly string[] Letters = ["A", "B", "C", "D", "E"];

    static readonly OpenXmlConfiguration Reading = new()
    {
        FillMergedCells = false, IgnoreEmptyRows = false, EnableConvertByteArray = false,
        // MiniExcel refuses a gap of more blank cells than this (100,000 by default) before it yields the rows: the row cap
        // (a 413, checked row by row) is the limit here; a sheet has at most 1,048,576 rows of 5 cells read.
        MaxSynthesizedCells = int.MaxValue,
    };

    public static async IAsyncEnumerable<RawRow> ReadAsync(Stream body, WorkbookLimits limits, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var file = ImportSpool.TempFile("xlsx");
        await body.CopyToAsync(file, 1 << 16, ct);
        var sheet = Open(file, limits);

        using var rows = Guard(() => MiniExcel.QueryRange(file, useHeaderRow: false, sheetName: sheet, excelType: ExcelType.XLSX,
            startRowIndex: 1, startColumnIndex: 1, endColumnIndex: Columns, configuration: Reading).GetEnumerator());
        if (!Guard(rows.MoveNext)) throw ImportReaders.EmptyBody();
        var columns = Header((IDictionary<string, object?>)rows.Current);
        // MiniExcel yields every sheet row from the first, blank ones included, so the count is the sheet's row number.
        long row = 1;
        while (Guard(rows.MoveNext))
        {
            ct.ThrowIfCancellationRequested();
            if (++row > limits.MaxRows + 1) throw ImportProblems.TooManyRows(limits.MaxRows);
            var cells = (IDictionary<string, object?>)rows.Current;
            var texts = new string?[Columns];
            for (var i = 0; i < columns; i++) texts[i] = Cell(cells.TryGetValue(Letters[i], out var value) ? value : null, period: i == 2);
            if (texts.All(string.IsNullOrWhiteSpace)) continue;
            if (string.IsNullOrWhiteSpace(texts[3]) && !limits.Deleting)
            {
                yield return RawRow.Unread(row, "value",
                    "The value cell is empty. A formula counts only with its saved result: recalculate and save the workbook, or type the number.");
                continue;
            }
            yield return new RawRow(row, texts[0], texts[1], texts[2], texts[3], texts[4]);
        }
    }

    /// <summary>Checks the file is an unencrypted xlsx within the caps; returns the sheet to read (null: the first).</summary>
    static string? Open(FileStream file, WorkbookLimits limits)
    {
        if (file.Length == 0) throw ImportReaders.EmptyBody();
        Span<byte> head = stackalloc byte[8];
        file.Position = 0;
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (head[..read].SequenceEqual(OleSignature))
            throw ImportReaders.Unreadable(
                "The file is an OLE compound document: an encrypted workbook or an old .xls. Save it as an xlsx without a password.");
        if (!head[..read].StartsWith(ZipSignature))
            throw ImportReaders.Unreadable("The body is not an xlsx workbook (an xlsx is a zip file).");

        file.Position = 0;
        List<string> sheets;
        try
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
            CheckParts(zip, limits.MaxExpandedBytes);
            sheets = SheetNames(zip);
        }
        catch (Exception e) when (e is InvalidDataException or XmlException or InvalidOperationException or NullReferenceException)
        {
            throw ImportReaders.Unreadable("The xlsx workbook is damaged: it could not be read as a zip of spreadsheet parts.");
        }
        file.Position = 0;
        if (sheets.Count == 0) throw ImportReaders.Unreadable("The workbook has no sheet.");
        if (limits.Sheet is null || sheets.Contains(limits.Sheet, StringComparer.Ordinal)) return limits.Sheet;
        throw Refuse.Invalid("sheet", $"The workbook has no sheet '{limits.Sheet}'. Its sheets: {string.Join(", ", sheets)}.");
    }

    /// <summary>A zip bomb is refused from the sizes the zip declares, before any part is decompressed.</summary>
    static void CheckParts(ZipArchive zip, long maxExpandedBytes)
    {
        if (zip.GetEntry("xl/workbook.xml") is null) throw ImportReaders.Unreadable("The zip is not an xlsx workbook: it has no xl/workbook.xml.");
        long total = 0;
        foreach (var part in zip.Entries)
        {
            total += part.Length;
            var (packed, expanded) = (part.CompressedLength, part.Length);
            if (expanded > RatioFloor && expanded > packed * MaxRatio || total > maxExpandedBytes)
                throw new ProblemException(StatusCodes.Status413PayloadTooLarge, ProblemTypes.PayloadTooLarge, "The request body is too large",
                    $"The workbook expands to more than its size allows (a part of {packed} bytes expands to {expanded}): it is not read.");
        }
    }

    /// <summary>The sheets' names in workbook order, from xl/workbook.xml (MiniExcel would read the shared strings for them too).</summary>
    static List<string> SheetNames(ZipArchive zip)
    {
        using var part = zip.GetEntry("xl/workbook.xml")!.Open();
        using var xml = XmlReader.Create(part, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
        var names = new List<string>();
        while (xml.Read())
            if (xml is { NodeType: XmlNodeType.Element, LocalName: "sheet" } && xml.GetAttribute("name") is { } name) names.Add(name);
        return names;
    }

    static int Header(IDictionary<string, object?> cells)
    {
        var names = Letters.Select(l => cells.TryGetValue(l, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture)?.Trim() ?? "" : "")
            .ToArray();
        var count = Array.FindLastIndex(names, n => n.Length > 0) + 1;
        var english = ImportReaders.CsvHeader.Split(',');
        var chinese = ChineseHeader.Split(',');
        var fits = count is 4 or 5 && Enumerable.Range(0, count)
            .All(i => string.Equals(names[i], english[i], StringComparison.OrdinalIgnoreCase) || names[i] == chinese[i]);
        return fits ? count : throw ImportReaders.Unreadable(
            $"The first row must be the header '{ImportReaders.CsvHeader}' or '{ChineseHeader}' in columns A to E (comment may be left out).");
    }

    /// <summary>
    /// A cell as the text the checks read: numbers as their shortest exact form (460000, 0.1), a date in the period column
    /// as its month (YYYY-MM), text as it is. A cell over 1 MB is a 400, as a CSV field is.
    /// </summary>
    static string? Cell(object? value, bool period) => value switch
    {
        null => null,
        string { Length: > MaxCellChars } => throw ImportReaders.Unreadable("A cell of the workbook is larger than 1 MB."),
        string text => text,
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        DateTime date => date.ToString(period ? "yyyy-MM" : "yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    /// <summary>What MiniExcel throws on a part that is not the XML it expects is a 400, not a 500.</summary>
    static T Guard<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is InvalidDataException or XmlException or InvalidOperationException or FormatException or InvalidCastException)
        {
            throw ImportReaders.Unreadable("The xlsx workbook is damaged: its sheet could not be read.");
        }
    }
}
