using Dapper;
using Rectify.Api.Features.Completeness;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Http;
using SpreadCheetah;
using SpreadCheetah.Validations;
using SpreadCheetah.Worksheets;

namespace Rectify.Api.Features.DataValues;

/// <summary>The template's query: which indicators (comma-separated codes; none: every monthly one), which unit and below, which month.</summary>
public sealed record TemplateQuery
{
    [System.ComponentModel.Description("Indicator codes, comma-separated (default: every monthly pushed indicator).")]
    public string? Indicators { get; init; }

    [System.ComponentModel.Description("Only the reporters of this unit and the units below it (code).")]
    public string? Unit { get; init; }

    [System.ComponentModel.Description("The month to report, YYYY-MM.")]
    public string? Period { get; init; }
}

/// <summary>
/// The monthly push as a workbook to fill in: one row per expected report (indicator × reporting unit, the completeness
/// view's rows) of the month, with the push's columns A–E (Chinese headers, value empty, a decimal check on it) and,
/// to the right, what a clerk needs to read: the indicator's name and unit of measure, the unit's name, the deadline.
/// Pushed back as it is once the values are filled in.
/// </summary>
public sealed class ImportTemplate(Db db, Clock clock, Caller caller)
{
    static readonly string[] Headers = [.. ImportWorkbook.ChineseHeader.Split(','), "指标名称", "计量单位", "单位名称", "报送截止日期"];

    sealed record Names(string Code, string Name, string? MeasureUnit);

    public async Task<IResult> BuildAsync(TemplateQuery query, CancellationToken ct)
    {
        var period = Period.TryParse(query.Period, IndicatorFrequency.Monthly)
            ?? throw Refuse.Invalid("period", "period is required: the month to report, YYYY-MM.");
        var codes = query.Indicators?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[]? units = query.Unit is null ? caller.ReadableUnits
            : caller.ReadableUnits is null || caller.ReadableUnits.Contains(query.Unit) ? [query.Unit]
            : throw Refuse.Forbidden($"Unit '{query.Unit}' is outside the units this client may read.");

        var (reports, indicators, unitNames) = await db.ReadAsync(async (connection, token) =>
        {
            var expected = await ExpectedReports.ReadAsync(connection, [period], clock, token, units, codes);
            var names = (await connection.QueryAsync<Names>(new CommandDefinition(
                "SELECT code, name, measure_unit AS measureunit FROM indicators WHERE code = ANY (@codes)",
                new { codes = expected.Select(r => r.Indicator).Distinct().ToArray() }, cancellationToken: token))).ToDictionary(n => n.Code);
            var unitNames = (await connection.QueryAsync<(string Code, string Name)>(new CommandDefinition(
                "SELECT code, name FROM units WHERE code = ANY (@codes)",
                new { codes = expected.Select(r => r.Unit).Distinct().ToArray() }, cancellationToken: token))).ToDictionary(u => u.Code, u => u.Name);
            return (expected, names, unitNames);
        }, ct);

        return Results.Stream(async body =>
        {
            var forward = new WriteBehindStream(body);
            await using (var book = await Spreadsheet.CreateNewAsync(forward, cancellationToken: ct))
            {
                var rows = reports.Select(r => new object?[]
                {
                    r.Indicator, r.Unit, r.Period, null, null, indicators.GetValueOrDefault(r.Indicator)?.Name,
                    indicators.GetValueOrDefault(r.Indicator)?.MeasureUnit, unitNames.GetValueOrDefault(r.Unit), r.Deadline,
                }).ToList();
                var options = new WorksheetOptions { FrozenRows = 1 };
                for (var i = 0; i < Headers.Length; i++) options.Column(i + 1).Width = XlsxExport.Width(rows.Select(r => r[i]).Prepend(Headers[i]));
                await book.StartWorksheetAsync($"{period}", options, ct);
                var styles = new XlsxExport.Styles(book);
                await book.AddRowAsync(Headers.Select(h => new Cell(h, styles.Header)).ToArray(), ct);
                foreach (var row in rows) await book.AddRowAsync(row.Select(v => XlsxExport.CellOf(v, styles)).ToArray(), ct);
                if (rows.Count > 0)
                {
                    var number = DataValidation.DecimalBetween(-1e15, 1e15);
                    number.ErrorTitle = "数值";
                    number.ErrorMessage = "请填写数字（不含千位分隔符）。";
                    number.InputMessage = "填写本期数值";
                    book.AddDataValidation($"D2:D{rows.Count + 1}", number);
                }
                await book.FinishAsync(ct);
            }
            await forward.DrainAsync(ct);
        }, XlsxExport.MediaType, $"data-values-template-{period}.xlsx");
    }
}
