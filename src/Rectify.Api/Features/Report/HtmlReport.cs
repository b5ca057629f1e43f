using System.Globalization;
using System.Net;
using System.Text;
using Rectify.Api.Features.Measures;

namespace Rectify.Api.Features.Report;

/// <summary>
/// The report as one self-contained HTML page: inline CSS (print-friendly, A4), inline SVG charts, no script and no
/// external resource, so that it renders offline and under <see cref="ContentSecurityPolicy"/>. Every piece of data is
/// HTML-encoded; the markup is also well-formed XML (void elements closed), so that a test can parse it strictly.
/// </summary>
public static class HtmlReport
{
    public const string ContentType = "text/html; charset=utf-8";

    /// <summary>Only the page's own inline styles and data: images: even markup that slipped through could load or run nothing.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

    public static string Render(ProgressReport report)
    {
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\"/>\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
            .Append("<title>").Append(Encode(report.Title)).Append("</title>\n")
            .Append("<style>").Append(Css).Append("</style>\n</head>\n<body>\n<main class=\"report\">\n");

        Header(html, report);
        Overview(html, report);
        Areas(html, report);
        NextSteps(html, report);
        Footer(html, report);

        return html.Append("</main>\n</body>\n</html>\n").ToString();
    }

    static void Header(StringBuilder html, ProgressReport report)
    {
        html.Append("<header>\n<p class=\"kicker\">巡视整改进展情况通报</p>\n")
            .Append("<h1>").Append(Encode(report.Title)).Append("</h1>\n")
            .Append("<p class=\"status status-").Append(report.Source.ToString().ToLowerInvariant()).Append("\">数据状态：")
            .Append(Encode(report.StatusLine)).Append("</p>\n");
        if (report.RevisionReason is { Length: > 0 } reason) html.Append("<p class=\"revision\">更正说明：").Append(Encode(reason)).Append("</p>\n");
        html.Append("</header>\n");
        Paragraph(html, report.Preamble, "lead");
    }

    static void Overview(StringBuilder html, ProgressReport report)
    {
        html.Append("<section id=\"overview\">\n<h2>一、总体进展</h2>\n<div class=\"stats\">\n");
        foreach (var stat in report.Stats)
        {
            html.Append("<div class=\"stat").Append(stat.Alert ? " alert" : "").Append("\"><div class=\"stat-value\">").Append(Encode(stat.Value))
                .Append("</div><div class=\"stat-label\">").Append(Encode(stat.Label)).Append("</div>");
            if (stat.Note is not null) html.Append("<div class=\"stat-note\">").Append(Encode(stat.Note)).Append("</div>");
            html.Append("</div>\n");
        }
        html.Append("</div>\n");
        foreach (var sentence in report.Overview) Paragraph(html, sentence);

        html.Append("<div class=\"charts\">\n");
        Chart(html, report.CompletionTrend, "completion");
        foreach (var chart in report.KeyIndicators) Chart(html, chart, "indicator");
        html.Append("</div>\n</section>\n");
    }

    static void Chart(StringBuilder html, ReportChart chart, string kind)
    {
        html.Append("<figure class=\"figure-").Append(kind).Append("\">\n<figcaption><span class=\"chart-title\">")
            .Append(Encode(chart.Title)).Append("</span>");
        if (chart.MeasureUnit.Length > 0) html.Append("<span class=\"chart-unit\">单位：").Append(Encode(chart.MeasureUnit)).Append("</span>");
        html.Append("</figcaption>\n").Append(SvgCharts.Render(chart, kind)).Append('\n');
        if (chart.Note is not null) html.Append("<p class=\"chart-note\">").Append(Encode(chart.Note)).Append("</p>\n");
        html.Append("</figure>\n");
    }

    static void Areas(StringBuilder html, ProgressReport report)
    {
        html.Append("<section id=\"areas\">\n<h2>二、各问题整改落实情况</h2>\n");
        if (report.Areas.Count == 0) Paragraph(html, "本轮巡视尚未录入反馈问题。");
        foreach (var area in report.Areas)
        {
            html.Append("<article class=\"area\" id=\"issue-").Append(Encode(area.Code)).Append("\">\n<h3>")
                .Append(Encode(area.Heading)).Append("</h3>\n")
                .Append("<p class=\"meta\">").Append(Encode(area.Meta)).Append("</p>\n<p class=\"label\">整改情况：</p>\n");
            if (area.Measures.Count == 0) Paragraph(html, "尚未制定整改措施。");
            foreach (var measure in area.Measures) Measure(html, measure);
            if (area.Figures.Count > 0)
            {
                html.Append("<div class=\"figures\">\n<p class=\"label\">相关指标：</p>\n<ul>\n");
                foreach (var figure in area.Figures) html.Append("<li>").Append(Encode(figure)).Append("</li>\n");
                html.Append("</ul>\n</div>\n");
            }
            html.Append("</article>\n");
        }
        html.Append("</section>\n");
    }

    static void Measure(StringBuilder html, ReportMeasure measure)
    {
        var progress = Math.Clamp(measure.Progress, 0, 100).ToString("0.##", CultureInfo.InvariantCulture);
        html.Append("<div class=\"measure state-").Append(StateClass(measure.State)).Append("\">\n<h4><span class=\"number\">")
            .Append(measure.Number.ToString(CultureInfo.InvariantCulture)).Append(".</span>").Append(Encode(measure.Title))
            .Append("<span class=\"badge state\">").Append(Encode(measure.StateText)).Append("</span>");
        if (measure.Light is { } light)
            html.Append("<span class=\"badge light light-").Append(LightClass(light)).Append("\">")
                .Append(Encode(measure.LightText)).Append("</span>");
        html.Append("<span class=\"pct\">进度").Append(Encode(measure.ProgressText))
            .Append("<svg class=\"progress\" viewBox=\"0 0 100 6\" width=\"72\" height=\"6\" aria-hidden=\"true\">"
                + "<rect class=\"track\" width=\"100\" height=\"6\"/><rect class=\"fill\" width=\"")
            .Append(progress).Append("\" height=\"6\"/></svg></span></h4>\n");
        if (measure.SubIssue is not null) html.Append("<p class=\"meta\">所属子问题：").Append(Encode(measure.SubIssue)).Append("</p>\n");
        if (measure.Paragraphs.Count == 0) Paragraph(html, "（未填写措施内容）", "empty");
        foreach (var paragraph in measure.Paragraphs) Paragraph(html, paragraph);
        if (measure.LatestNote is not null) html.Append("<p class=\"note\"><b>最新进展：</b>").Append(Encode(measure.LatestNote)).Append("</p>\n");
        html.Append("<p class=\"meta\">").Append(Encode(measure.Meta)).Append("</p>\n</div>\n");
    }

    static void NextSteps(StringBuilder html, ProgressReport report)
    {
        html.Append("<section id=\"next\">\n<h2>三、下一步整改工作安排</h2>\n<h3>（一）尚需推进的整改事项</h3>\n");
        Paragraph(html, report.PendingSummary);
        if (report.Pending.Count > 0)
        {
            html.Append("<table class=\"pending\">\n<thead><tr><th>序号</th><th>整改措施</th><th>所属问题</th><th>责任单位</th>"
                + "<th>完成时限</th><th>进度</th><th>状态</th></tr></thead>\n<tbody>\n");
            for (var i = 0; i < report.Pending.Count; i++)
            {
                var item = report.Pending[i];
                html.Append("<tr><td>").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(Encode(item.Measure))
                    .Append("</td><td>").Append(Encode(item.Area)).Append("</td><td>").Append(Encode(item.Owner))
                    .Append("</td><td>").Append(Encode(item.DueDate)).Append("</td><td>").Append(Encode(item.Progress))
                    .Append("</td><td class=\"light-").Append(item.Light is { } light ? LightClass(light) : "none").Append("\">")
                    .Append(Encode(item.LightText)).Append("</td></tr>\n");
            }
            html.Append("</tbody>\n</table>\n");
        }
        html.Append("<p class=\"deferred-summary\"><b>延期事项：</b>").Append(Encode(report.DeferredSummary)).Append("</p>\n");
        if (report.Deferred.Count > 0)
        {
            html.Append("<table class=\"pending deferred\">\n<thead><tr><th>序号</th><th>事项</th><th>类别</th><th>责任单位</th>"
                + "<th>原定时限</th><th>调整后时限</th><th>延期次数</th><th>状态</th></tr></thead>\n<tbody>\n");
            for (var i = 0; i < report.Deferred.Count; i++)
            {
                var item = report.Deferred[i];
                html.Append("<tr><td>").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(Encode(item.Item))
                    .Append("</td><td>").Append(Encode(item.Kind)).Append("</td><td>").Append(Encode(item.Owner))
                    .Append("</td><td>").Append(Encode(item.OriginalDueDate)).Append("</td><td>").Append(Encode(item.DueDate))
                    .Append("</td><td>").Append(Encode(item.Times)).Append("</td><td>").Append(Encode(item.State)).Append("</td></tr>\n");
            }
            html.Append("</tbody>\n</table>\n");
        }
        if (report.WarningSummary is not null) Paragraph(html, report.WarningSummary, "warnings");
        if (report.SignOffSummary is not null) Paragraph(html, report.SignOffSummary, "sign-offs");
        html.Append("<h3>（二）下步工作</h3>\n");
        foreach (var paragraph in report.Narrative.Count > 0 ? report.Narrative : [report.Closing]) Paragraph(html, paragraph);
        html.Append("</section>\n");
    }

    static void Footer(StringBuilder html, ProgressReport report)
    {
        html.Append("<footer>\n");
        if (report.Signatory is not null || report.SignedOn is not null)
        {
            html.Append("<p class=\"signature\">");
            if (report.Signatory is not null) html.Append(Encode(report.Signatory));
            if (report.Signatory is not null && report.SignedOn is not null) html.Append("<br/>");
            if (report.SignedOn is not null) html.Append(Encode(report.SignedOn));
            html.Append("</p>\n");
        }
        html.Append("<p class=\"source\">").Append(Encode(report.SourceNote)).Append("</p>\n</footer>\n");
    }

    static void Paragraph(StringBuilder html, string text, string? cssClass = null)
    {
        html.Append(cssClass is null ? "<p>" : $"<p class=\"{cssClass}\">").Append(Encode(text)).Append("</p>\n");
    }

    static string StateClass(MeasureState state) => Infrastructure.EnumText.Format(state).Replace('_', '-');

    static string LightClass(TrafficLight light) => Infrastructure.EnumText.Format(light);

    /// <summary>
    /// Data as HTML text (element content or a quoted attribute): markup characters encoded, and control characters, which
    /// no report needs and XML forbids, dropped.
    /// </summary>
    public static string Encode(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var clean = text.Any(IsUnwanted) ? new string(text.Where(c => !IsUnwanted(c)).ToArray()) : text;
        return WebUtility.HtmlEncode(clean);
    }

    static bool IsUnwanted(char c) => (char.IsControl(c) && c != '\n') || c is '\uFFFE' or '\uFFFF';

    // Body text in the serif faces of official documents, figures and tables in sans; both fall back to whatever CJK
    // fonts the system has (Noto/Source Han on Linux, Songti/PingFang on macOS, SimSun/YaHei on Windows).
    // Lines too long for the source are cut at a space, which the " " between the pieces puts back.
    const string Css = """

        :root { color-scheme: light; --red: #a4161a; --blue: #1f5fa8; --ink: #1d1d1f; --muted: #5f6368; --rule: #d9d9d9; }
        * { box-sizing: border-box; }
        html { background: #eeece6; }
        body { margin: 0; color: var(--ink); font-size: 16px; line-height: 1.85;
          font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "STSong", "SimSun",
        """ + " " + """
        "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", serif; }
        .stats, .meta, .label, .status, .revision, .badge, .pct, table, figcaption, .chart-note, .source, .kicker, svg.chart text {
          font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
        """ + " " + """
        "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; }
        main.report { max-width: 210mm; margin: 24px auto; padding: 18mm 18mm 14mm; background: #fff; box-shadow: 0 1px 6px rgba(0, 0, 0, .15); }
        header { border-bottom: 3px solid var(--red); margin-bottom: 18px; padding-bottom: 10px; text-align: center; }
        header p { text-align: center; text-indent: 0; }
        .kicker { margin: 0; color: var(--red); font-size: 14px; letter-spacing: .4em; padding-left: .4em; font-weight: 700; }
        h1 { margin: 6px 0 10px; font-size: 24px; line-height: 1.5; font-weight: 700; }
        h2 { margin: 26px 0 10px; font-size: 19px; font-weight: 700; color: var(--red); }
        h3 { margin: 20px 0 6px; font-size: 17px; font-weight: 700; }
        h4 { margin: 0 0 2px; font-size: 16px; font-weight: 700; line-height: 1.6; }
        p { margin: 6px 0; text-indent: 2em; text-align: justify; }
        .status { display: inline-block; margin: 2px 0 0; padding: 1px 12px; border: 1px solid currentColor;
        """ + " " + """
        border-radius: 3px; font-size: 14px; text-indent: 0; }
        .status-published { color: #1b6e3a; }
        .status-draft { color: #9a6700; }
        .status-preview { color: #3d5a80; }
        .revision { font-size: 13px; color: var(--muted); text-indent: 0; text-align: center; }
        .stats { display: grid; grid-template-columns: repeat(5, 1fr); gap: 8px; margin: 10px 0 12px; }
        .stat { border: 1px solid var(--rule); border-top: 3px solid var(--blue); padding: 6px 8px; text-align: center; background: #fafafa; }
        .stat.alert { border-top-color: #c62828; }
        .stat.alert .stat-value { color: #c62828; }
        .stat-value { font-size: 22px; font-weight: 700; line-height: 1.3; }
        .stat-label { font-size: 13px; color: var(--ink); }
        .stat-note { font-size: 12px; color: var(--muted); }
        .charts { display: grid; grid-template-columns: repeat(2, 1fr); gap: 10px; margin: 12px 0; }
        figure { margin: 0; padding: 8px 8px 4px; border: 1px solid var(--rule); }
        figcaption { font-size: 14px; font-weight: 700; display: flex; justify-content: space-between; gap: 8px; }
        .chart-unit { font-weight: 400; color: var(--muted); font-size: 12px; }
        .chart-note { font-size: 12px; color: var(--muted); text-indent: 0; margin: 0; }
        svg.chart { display: block; width: 100%; height: auto; }
        svg.chart text { font-size: 10px; fill: #555; }
        svg.chart .year { fill: #888; }
        svg.chart .grid { stroke: #e6e6e6; stroke-width: 1; }
        svg.chart .grid.zero, svg.chart .axis { stroke: #9e9e9e; stroke-width: 1; }
        svg.chart .line { fill: none; stroke: var(--blue); stroke-width: 2; stroke-linejoin: round; }
        svg.chart .dot { fill: var(--blue); }
        svg.chart .dot.open { fill: #fff; stroke: var(--blue); stroke-width: 1.5; }
        svg.chart .bar { fill: #6f9fd8; }
        svg.chart .target { stroke: #c62828; stroke-width: 1; stroke-dasharray: 4 3; }
        svg.chart text.target-label { fill: #c62828; }
        svg.chart text.value { font-size: 11px; font-weight: 700; fill: #222; }
        svg.chart text.empty { font-size: 12px; fill: #999; }
        svg.completion .line { stroke: var(--red); }
        svg.completion .dot { fill: var(--red); }
        svg.completion .dot.open { fill: #fff; stroke: var(--red); }
        .area { margin-bottom: 8px; }
        .meta { font-size: 13px; color: var(--muted); text-indent: 0; line-height: 1.6; }
        .label { font-weight: 700; text-indent: 2em; font-size: 15px; }
        .measure { margin: 10px 0 12px; padding: 2px 0 2px 12px; border-left: 3px solid var(--rule); break-inside: avoid; page-break-inside: avoid; }
        .measure.state-done { border-left-color: #6aa67f; }
        .measure.state-in-progress { border-left-color: #7aa2d6; }
        .measure .number { margin-right: 2px; }
        .badge { display: inline-block; margin-left: 8px; padding: 0 6px; border-radius: 3px; font-size: 12px;
        """ + " " + """
        font-weight: 400; line-height: 1.6; vertical-align: 2px; border: 1px solid transparent; }
        .badge.state { background: #eef2f7; color: #33506f; }
        .state-done .badge.state { background: #e6f4ea; color: #1b6e3a; }
        .state-cancelled .badge.state { background: #f1f1f1; color: #777; }
        .badge.light-red { color: #c62828; border-color: #c62828; font-weight: 700; }
        .badge.light-yellow { color: #8a6100; border-color: #d4a017; }
        .badge.light-green { color: #1b6e3a; border-color: #8bc49c; }
        .pct { float: right; font-size: 12px; font-weight: 400; color: var(--muted); }
        svg.progress { margin-left: 6px; vertical-align: 1px; }
        svg.progress .track { fill: #e6e6e6; }
        svg.progress .fill { fill: var(--blue); }
        .state-done svg.progress .fill { fill: #3f8f5a; }
        .note { font-size: 14px; background: #f7f6f2; border-left: 2px solid #c9b458; padding: 3px 8px; text-indent: 0; }
        .figures ul { margin: 2px 0 6px; padding-left: 3.5em; font-size: 14px; }
        .figures li { margin: 2px 0; }
        table.pending { width: 100%; border-collapse: collapse; font-size: 13px; line-height: 1.5; margin: 8px 0 12px; }
        table.pending th, table.pending td { border: 1px solid #c8c8c8; padding: 4px 6px; text-align: left; vertical-align: top; }
        table.pending th { background: #f2f2f2; font-weight: 700; white-space: nowrap; }
        table.pending td:first-child, table.pending td:nth-child(4), table.pending td:nth-child(5),
        """ + " " + """
        table.pending td:nth-child(6), table.pending td:last-child { white-space: nowrap; }
        table.pending thead { display: table-header-group; }
        td.light-red { color: #c62828; font-weight: 700; }
        td.light-yellow { color: #8a6100; font-weight: 700; }
        td.light-green { color: #1b6e3a; }
        footer { margin-top: 28px; }
        .signature { text-align: right; text-indent: 0; line-height: 1.9; }
        .source { font-size: 12px; color: var(--muted); text-indent: 0; border-top: 1px solid var(--rule); padding-top: 6px; margin-top: 18px; }
        @media screen and (max-width: 760px) {
          main.report { margin: 0; padding: 16px; box-shadow: none; }
          .stats { grid-template-columns: repeat(2, 1fr); }
          .charts { grid-template-columns: 1fr; }
          .pct { float: none; display: block; }
        }
        @page {
          size: A4; margin: 16mm 15mm 18mm;
          @bottom-center { content: "第 " counter(page) " 页，共 " counter(pages) " 页"; font-size: 9pt; color: #666; }
        }
        @media print {
          html, body { background: none; }
          main.report { max-width: none; margin: 0; padding: 0; box-shadow: none; }
          .stat, .note, table.pending th, .badge.state, .state-done .badge.state, .state-cancelled .badge.state { background: none; }
          .badge.state { border-color: #bbb; }
          .stat, figure, .measure, tr, .figures { break-inside: avoid; page-break-inside: avoid; }
          h2, h3, h4, .area > .meta, .label { break-after: avoid; page-break-after: avoid; }
          .charts { grid-template-columns: repeat(2, 1fr); }
        }

        """;
}
