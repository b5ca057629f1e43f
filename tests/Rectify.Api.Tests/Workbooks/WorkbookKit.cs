using System.IO.Compression;
using System.Text;
using MiniExcelLibs;
using SpreadCheetah;
using SpreadCheetah.Styling;

namespace Rectify.Api.Tests.Workbooks;

/// <summary>
/// Workbooks as offices send them, written with SpreadCheetah (typed cells, date styles, formulas with or without a
/// saved result, several sheets), hand-made zips for what no library writes (a sheet of 1,048,576 rows, a zip bomb),
/// and xlsx answers read back with MiniExcel.
/// </summary>
public static class WorkbookKit
{
    public const string MediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A workbook of <paramref name="sheets"/> (name → rows of cells), each row as given.</summary>
    public static async Task<byte[]> BuildAsync(params (string Name, Func<Spreadsheet, IEnumerable<Cell[]>> Rows)[] sheets)
    {
        using var output = new MemoryStream();
        await using (var book = await Spreadsheet.CreateNewAsync(output, cancellationToken: Ct))
        {
            foreach (var (name, rows) in sheets)
            {
                await book.StartWorksheetAsync(name, token: Ct);
                foreach (var row in rows(book)) await book.AddRowAsync(row, Ct);
            }
            await book.FinishAsync(Ct);
        }
        return output.ToArray();
    }

    /// <summary>One sheet named Sheet1 with a header row and text/number rows (a string is text, a decimal a number).</summary>
    public static Task<byte[]> SheetAsync(string header, IEnumerable<object?[]> rows)
        => BuildAsync(("Sheet1", _ => rows.Select(Row).Prepend(header.Split(',').Select(h => new Cell(h)).ToArray())));

    public static Cell[] Row(object?[] values) => values.Select(v => v switch
    {
        null => new Cell(),
        string text => new Cell(text),
        decimal number => new Cell(number),
        int number => new Cell(number),
        double number => new Cell(number),
        Cell cell => cell,
        _ => throw new ArgumentException(v.GetType().Name),
    }).ToArray();

    /// <summary>A date-styled cell, as Excel stores a date typed into a cell.</summary>
    public static Cell Date(Spreadsheet book, DateTime date) => new(date, book.AddStyle(new Style { Format = NumberFormat.Custom("yyyy-mm") }));

    /// <summary>
    /// A minimal xlsx zipped by hand around <paramref name="sheetData"/> (the rows' XML), with inline strings.
    /// </summary>
    public static byte[] Raw(string sheetData, CompressionLevel level = CompressionLevel.Optimal, (string Name, byte[] Data)? extra = null)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, string text) => AddBytes(name, Encoding.UTF8.GetBytes(text));
            void AddBytes(string name, byte[] data)
            {
                using var part = zip.CreateEntry(name, level).Open();
                part.Write(data);
            }
            Add("[Content_Types].xml", """<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>""");
            Add("_rels/.rels", """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>""");
            Add("xl/workbook.xml", """<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>""");
            Add("xl/_rels/workbook.xml.rels", """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>""");
            Add("xl/worksheets/sheet1.xml", """<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>""" + sheetData + "</sheetData></worksheet>");
            if (extra is { } part) AddBytes(part.Name, part.Data);
        }
        return output.ToArray();
    }

    /// <summary>An inline-string cell's XML.</summary>
    public static string Text(string reference, string text) => $"""<c r="{reference}" t="inlineStr"><is><t>{System.Security.SecurityElement.Escape(text)}</t></is></c>""";

    /// <summary>The header row's XML (row 1).</summary>
    public static string HeaderRow => "<row r=\"1\">" + string.Concat("indicator,unit,period,value,comment".Split(',').Select((h, i) => Text($"{(char)('A' + i)}1", h))) + "</row>";

    /// <summary>The rows of an xlsx answer's first sheet as column letter → value (MiniExcel's typed values).</summary>
    public static List<IDictionary<string, object?>> Read(byte[] xlsx)
    {
        using var stream = new MemoryStream(xlsx);
        return MiniExcel.Query(stream, useHeaderRow: false, excelType: ExcelType.XLSX).Cast<IDictionary<string, object?>>().ToList();
    }
}
