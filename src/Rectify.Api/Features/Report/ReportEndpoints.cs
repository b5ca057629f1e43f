using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Rectify.Api.Infrastructure.Auth;

namespace Rectify.Api.Features.Report;

public static class ReportEndpoints
{
    const string Html = "text/html", Markdown = "text/markdown", Pdf = PdfPrinter.ContentType;

    public static IEndpointRouteBuilder MapProgressReport(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/rounds/{round}/report", Get).RequireScopeOrPublicRead(Scopes.Read)
            .WithTags("Reports")
            .WithName("GetProgressReport")
            .WithSummary("Render the month's public progress report")
            .WithDescription("""
                The progress report (整改进展情况通报) of the round for one month, in Chinese, in the shape of a published report:
                the round and its inspection; 一、总体进展 (issues and measures by state, completion rate, overdue, completed this
                month, reporting completeness, with charts of the completion rate and of up to four key indicators over the last
                twelve months); 二、 per problem area the measures taken, their progress, narrative, latest note and the linked
                indicators' figures; 三、 every unfinished measure with its owner, due date and traffic light, then the month's
                narrative. It is made from the month's latest published snapshot, else its latest draft, else live data (a preview),
                and says which (已发布 / 草稿 / 实时数据预览). Where public read is configured, callers without a key get published months only.
                format=html is one page with inline CSS and SVG, no script and no external resource (served with a strict
                Content-Security-Policy); format=md is plain Markdown for diffs; format=pdf is the page printed to A4 by headless
                Chromium on the server, as a download (Content-Disposition: attachment). Printing takes seconds and a few at a
                time: without Chromium on the server, or when the print fails or takes longer than the configured timeout, the
                answer is a 503 problem of type urn:rectify:problem:pdf-unavailable (the HTML is always there to print instead).
                """)
            .Produces(StatusCodes.Status200OK, typeof(string), Html, Markdown, Pdf)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The generator gives every media type the schema of a JSON string: describe them as the documents they are.
                foreach (var response in operation.Responses?.Where(r => r.Key.StartsWith('2')).Select(r => r.Value) ?? [])
                {
                    if (response.Content?.TryGetValue(Html, out var html) == true) Describe(html, "A complete HTML page (UTF-8).", Examples.Html);
                    if (response.Content?.TryGetValue(Markdown, out var md) == true) Describe(md, "Markdown (UTF-8).", Examples.Markdown);
                    if (response.Content?.TryGetValue(Pdf, out var pdf) == true)
                        pdf.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "A PDF of A4 pages." };
                }
                if (operation.Responses?.TryGetValue("503", out var unavailable) == true && unavailable is OpenApiResponse problem)
                    problem.Description = "The database is unreachable (database-unavailable), or format=pdf could not be printed "
                        + "(pdf-unavailable: no Chromium on the server, a failed print or one past the timeout). Retry after Retry-After.";
                return Task.CompletedTask;
            });
        return routes;
    }

    // [Required] and [Month] hold period to a month, and [AllowedValues] format to html, md or pdf, before the handler runs.
    static async Task<Results<ContentHttpResult, FileContentHttpResult>> Get(string round, [AsParameters] ReportQuery query,
        ReportUseCases reports, PdfPrinter printer, Caller caller, HttpContext http, CancellationToken ct)
    {
        var format = query.Format ?? "html";
        var report = await reports.BuildAsync(round, query.Period!.Value, ct);
        // Printed before any header is set, so that a print that fails answers its problem and nothing of a download.
        var pdf = format == "pdf" ? await printer.PrintAsync(HtmlReport.Render(report), ct) : null;

        var headers = http.Response.Headers;
        var name = $"{FileName(report.Round)}-{report.Period}-progress-report.{format}";
        // The PDF is a document to keep, the others are read in place.
        headers.ContentDisposition = new ContentDispositionHeaderValue(pdf is null ? "inline" : "attachment") { FileName = name, FileNameStar = name }
            .ToString();
        // A published month is final until corrected; anything else may change with the next push.
        // Answers to a keyed caller stay private; the public view (public read, no key) may be kept by shared caches.
        headers.CacheControl = report.Source != ReportSource.Published ? "no-cache"
            : caller.IsAuthenticated ? "private, max-age=300" : "public, max-age=300";
        if (pdf is not null) return TypedResults.File(pdf, Pdf);
        if (format == "md") return TypedResults.Content(MarkdownReport.Render(report), MarkdownReport.ContentType);
        headers.ContentSecurityPolicy = HtmlReport.ContentSecurityPolicy;
        return TypedResults.Content(HtmlReport.Render(report), HtmlReport.ContentType);
    }

    /// <summary>
    /// The round's code as a file name: letters, digits, - and _ only (a code is data, and headers are not the place for
    /// the rest).
    /// </summary>
    static string FileName(string code)
    {
        var safe = new string(code.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
        return safe.Length == 0 ? "round" : safe;
    }

    static void Describe(OpenApiMediaType media, string description, string example)
    {
        media.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = description };
        media.Example = JsonValue.Create(example);
    }

    static class Examples
    {
        // One line of the page is too long for the source: it is cut at a space, which the " " between the pieces restores.
        public const string Html = """
            <!DOCTYPE html>
            <html lang="zh-CN">
            <head><meta charset="utf-8"/><title>「八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视」整改进展情况（截至2025年10月）</title><style>…</style></head>
            <body><main class="report">
            <header><p class="kicker">巡视整改进展情况通报</p><h1>「八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视」整改进展情况（截至2025年10月）</h1>
            <p class="status status-published">数据状态：已发布（第1版，2025年11月5日发布）</p></header>
            <section id="overview"><h2>一、总体进展</h2>…<svg class="chart completion" viewBox="0 0 340 184" role="img"
            """
            + " "
            + """
            aria-label="整改措施完成率（单位：%），2024年11月至2025年10月">…</svg></section>
            <section id="areas"><h2>二、各问题整改落实情况</h2><article class="area"><h3>（一）关于“殡葬改革推行不力”的问题</h3>…</article>…</section>
            <section id="next"><h2>三、下一步整改工作安排</h2>…</section>
            </main></body>
            </html>
            """;

        // Cut from the demo data's published 2025-10 (… marks what is left out).
        public const string Markdown = """
            # 「八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视」整改进展情况（截至2025年10月）

            **数据状态：已发布（第1版，2025年11月5日发布）**

            ## 一、总体进展

            | 项目 | 数值 | 说明 |
            | --- | ---: | --- |
            | 反馈问题 | 9个 | 已销号0个 |
            | 整改措施 | 25项 | 已完成16项 |
            | 措施完成率 | 64% | 本月完成2项 |
            | 逾期未完成 | 0项 | 逾期问题0个 |
            | 数据报送 | 68.35% | 应报79项 |

            截至2025年10月底，巡视反馈问题共9个，其中未启动0个、推进中5个、待销号2个、已销号0个、长期坚持2个；逾期未完成问题0个，本月销号0个。

            …

            ## 二、各问题整改落实情况

            ### （一）关于“殡葬改革推行不力”的问题

            问题领域：殡葬管理；牵头单位：社会事务处；责任领导：厅党组书记、厅长；问题状态：推进中；整改时限：2026年6月30日；措施平均进度：62.5%

            整改情况：

            #### 1. 整治殡葬乱象（推进中，进度85%，正常）

            …

            ## 三、下一步整改工作安排

            ### （一）尚需推进的整改事项

            尚有9项整改措施未完成，其中逾期0项、临期0项，按紧迫程度列示如下。

            | 序号 | 整改措施 | 所属问题 | 责任单位 | 完成时限 | 进度 | 状态 |
            | ---: | --- | --- | --- | --- | ---: | --- |
            | 1 | 1.1 整治殡葬乱象 | 殡葬改革推行不力 | 社会事务处 | 2025年12月31日 | 85% | 正常 |
            | 2 | 3.1 强化政策制定执行 | 养老服务事业短板突出 | 养老服务处 | 2025年12月31日 | 70% | 正常 |
            """;
    }
}
