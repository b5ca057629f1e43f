using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Rectify.Api.Features.Report;

public sealed record ReportQuery
{
    [Description("The month reported on, YYYY-MM.")]
    [Required(ErrorMessage = "Name the month of the report: period=YYYY-MM, e.g. 2025-10.")]
    [Month]
    public Period? Period { get; init; }

    [Description("html (default): a self-contained page with charts, print-friendly; md: plain Markdown; "
        + "pdf: the page printed to A4 by headless Chromium on the server (503 pdf-unavailable where it has none).")]
    [AllowedValues("html", "md", "pdf", null, ErrorMessage = "Use html (the default), md or pdf.")]
    public string? Format { get; init; }
}
