using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.DataValues;

/// <summary>upsert: insert or change; create: insert only, an existing value is a rejected row; delete: remove the named values.</summary>
public enum ImportStrategy { Upsert, Create, Delete }

/// <summary>
/// Why one row of a push was not taken. <c>row</c> counts as a spreadsheet does for CSV (the header is row 1), is the sheet
/// row number for xlsx, and counts from 1 in a JSON array. <c>message</c> names the row and says why, in the caller's
/// language (<c>Row 12: …</c>, <c>第12行：…</c>).
/// </summary>
public sealed record RowError(long Row, string Field, string Message);

/// <summary>
/// A rejected row inside the service: its reason kept as a <see cref="Text"/> until the summary is written, so that it is
/// said in the caller's language.
/// </summary>
sealed record RowRejection(long Row, string Field, Text Reason)
{
    /// <summary>The reason in English, without the row (a snapshot push names the value with its field instead).</summary>
    public string Message => Reason.ToString();

    /// <summary>The row error of the summary, its message naming the row, in the language of <paramref name="translate"/>.</summary>
    public RowError Said(Func<string, string> translate) => new(Row, Field, new Text("Row {0}: {1}", Row, Reason).Format(translate));
}

/// <summary>
/// The 422 problem of a refused push, the only schema of that status on the push, so that a generated client reads
/// <c>summary</c> without telling problem kinds apart: every 422 of the push carries it.
/// </summary>
public sealed class ImportRejectedProblem : Microsoft.AspNetCore.Mvc.ProblemDetails
{
    [Description("""
        What the push would have done; nothing was written (applied is false). type import-rejected: an atomic push with
        rejected rows, listed in errors. type idempotency-key-reused: the Idempotency-Key was first used with another body,
        and the summary is of this body as checked.
        """)]
    public required ImportSummary Summary { get; init; }
}

/// <summary>
/// What a push did. Counts are exact: an unchanged value is counted as unchanged and is not rewritten. When
/// <c>applied</c> is false nothing was written (a dry run, an atomic push that was refused, or a push without a good row).
/// </summary>
public sealed record ImportSummary
{
    [Description("Identifies this push in the journal.")]
    public required Guid ImportId { get; init; }
    public required bool DryRun { get; init; }
    public required ImportStrategy Strategy { get; init; }
    public required bool Atomic { get; init; }
    [Description("Whether anything was written.")]
    public required bool Applied { get; init; }
    public required long Received { get; init; }
    public required long Inserted { get; init; }
    public required long Updated { get; init; }
    public required long Unchanged { get; init; }
    public required long Deleted { get; init; }
    public required long Rejected { get; init; }
    [Description("The rejected rows, in row order, up to the configured number (1000 by default).")]
    public required IReadOnlyList<RowError> Errors { get; init; }
    [Description("True when more rows were rejected than are listed in errors.")]
    public required bool ErrorsTruncated { get; init; }
}

/// <summary>One value of a JSON push; a CSV push has the same columns.</summary>
public sealed record DataValueInput
{
    [Description("Indicator code, e.g. LOTTERY-SALES.")]
    public string? Indicator { get; init; }

    [Description("Unit (region) code, e.g. 460100.")]
    public string? Unit { get; init; }

    [Description("Period of the indicator's frequency: YYYY-MM, YYYY-Qn or YYYY.")]
    public string? Period { get; init; }

    [Description("The number (a JSON number, not a string); may be left out with strategy=delete.")]
    public decimal? Value { get; init; }

    [Description("Optional note, up to 2000 characters.")]
    public string? Comment { get; init; }
}

/// <summary>Options of a push, from the query string.</summary>
public sealed record ImportQuery
{
    [Description("true: validate and report, write nothing.")]
    public bool? DryRun { get; init; }

    [Description("upsert (default), create or delete.")]
    public string? Strategy { get; init; }

    [Description("true (default): any rejected row rejects the whole push and nothing is written. "
        + "false: good rows land, bad rows are reported (200 even when every row is rejected).")]
    public bool? Atomic { get; init; }

    [Description("Needed to change values that a published snapshot locks (its indicators, in its round's region and below, "
        + "for its period); recorded in the journal.")]
    [StringLength(500, MinimumLength = 1)]
    public string? RevisionReason { get; init; }

    [Description("xlsx only: the name of the sheet to read (default: the first sheet).")]
    [StringLength(31, MinimumLength = 1)]
    public string? Sheet { get; init; }
}

/// <summary>One number: indicator × unit × period.</summary>
public sealed record DataValueResponse(
    string Indicator, string Unit, string Period, decimal Value, string? Comment, string Source, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record DataValueListQuery : PageRequest
{
    [Description("Only values of this indicator (code).")]
    public string? Indicator { get; init; }

    [Description("Only values of this unit (code).")]
    public string? Unit { get; init; }

    [Description("Only values of this unit and every unit below it (code).")]
    public string? UnitSubtree { get; init; }

    [Description("Only periods from this one on (YYYY-MM, YYYY-Qn or YYYY; compared within the same frequency).")]
    [PeriodText]
    public Period? From { get; init; }

    [Description("Only periods up to this one (inclusive).")]
    [PeriodText]
    public Period? To { get; init; }

    [Description("Only values last written by this calling system.")]
    public string? Source { get; init; }
}

/// <summary>A value removed by a delete push, for readers that sync.</summary>
public sealed record DataValueDeletionResponse(
    long Id, string Indicator, string Unit, string Period, decimal Value, string DeletedBy, DateTime DeletedAt);

public sealed record DeletionListQuery : PageRequest;

sealed class DataValueRow
{
    public long IndicatorId { get; init; }
    public string Indicator { get; init; } = "";
    public string UnitCode { get; init; } = "";
    public string Period { get; init; } = "";
    public decimal Value { get; init; }
    public string? Comment { get; init; }
    public string Source { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }

    /// <summary>The keyset position: indicator id, unit, period (the primary key's order).</summary>
    public string Key => $"{IndicatorId}|{UnitCode}|{Period}";

    public DataValueResponse ToResponse() => new(Indicator, UnitCode, Period, Value, Comment, Source, CreatedAt, UpdatedAt);
}
