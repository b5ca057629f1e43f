using System.Globalization;
using System.Text;
using Rectify.Api.Features.Measures;

namespace Rectify.Api.Features.Report;

/// <summary>
/// The report as plain Markdown for diffs between months and revisions: one item per line, no trailing spaces, tables
/// only for what is tabular (headline figures, the monthly series, the open measures), and every piece of data escaped
/// so that it stays text.
/// </summary>
public static class MarkdownReport
{
    public const string ContentType = "text/markdown; charset=utf-8";

    public static string Render(ProgressReport report)
    {
        var md = new List<string>
        {
            "# " + Inline(report.Title),
            "",
            $"**数据状态：{Inline(report.StatusLine)}**",
            "",
        };
        if (report.RevisionReason is { Length: > 0 } reason) md.AddRange(["更正说明：" + Inline(reason), ""]);
        md.AddRange([Escape(report.Preamble), ""]);

        md.AddRange(["## 一、总体进展", "", "| 项目 | 数值 | 说明 |", "| --- | ---: | --- |"]);
        md.AddRange(report.Stats.Select(s => $"| {Inline(s.Label)} | {Inline(s.Value)} | {Inline(s.Note ?? "")} |"));
        md.Add("");
        foreach (var sentence in report.Overview) md.AddRange([Escape(sentence), ""]);
        Series(md, report);

        md.AddRange(["## 二、各问题整改落实情况", ""]);
        if (report.Areas.Count == 0) md.AddRange(["本轮巡视尚未录入反馈问题。", ""]);
        foreach (var area in report.Areas)
        {
            md.AddRange(["### " + Inline(area.Heading), "", Escape(area.Meta), "", "整改情况：", ""]);
            if (area.Measures.Count == 0) md.AddRange(["尚未制定整改措施。", ""]);
            foreach (var measure in area.Measures) Measure(md, measure);
            if (area.Figures.Count > 0)
            {
                md.AddRange(["相关指标：", ""]);
                md.AddRange(area.Figures.Select(f => "- " + Escape(f)));
                md.Add("");
            }
        }

        md.AddRange(["## 三、下一步整改工作安排", "", "### （一）尚需推进的整改事项", "", Escape(report.PendingSummary), ""]);
        if (report.Pending.Count > 0)
        {
            md.AddRange(["| 序号 | 整改措施 | 所属问题 | 责任单位 | 完成时限 | 进度 | 状态 |", "| ---: | --- | --- | --- | --- | ---: | --- |"]);
            md.AddRange(report.Pending.Select((p, i) =>
                $"| {(i + 1).ToString(CultureInfo.InvariantCulture)} | {Inline(p.Measure)} | {Inline(p.Area)} | {Inline(p.Owner)}"
                    + $" | {Inline(p.DueDate)} | {Inline(p.Progress)} | {Light(p.Light, p.LightText)} |"));
            md.Add("");
        }
        md.AddRange(["延期事项：" + Inline(report.DeferredSummary), ""]);
        if (report.Deferred.Count > 0)
        {
            md.AddRange(["| 序号 | 事项 | 类别 | 责任单位 | 原定时限 | 调整后时限 | 延期次数 | 状态 |", "| ---: | --- | --- | --- | --- | --- | ---: | --- |"]);
            md.AddRange(report.Deferred.Select((d, i) =>
                $"| {(i + 1).ToString(CultureInfo.InvariantCulture)} | {Inline(d.Item)} | {Inline(d.Kind)} | {Inline(d.Owner)}"
                    + $" | {Inline(d.OriginalDueDate)} | {Inline(d.DueDate)} | {Inline(d.Times)} | {Inline(d.State)} |"));
            md.Add("");
        }
        if (report.WarningSummary is not null) md.AddRange([Escape(report.WarningSummary), ""]);
        if (report.SignOffSummary is not null) md.AddRange([Escape(report.SignOffSummary), ""]);
        md.AddRange(["### （二）下步工作", ""]);
        foreach (var paragraph in report.Narrative.Count > 0 ? report.Narrative : [report.Closing]) md.AddRange([Escape(paragraph), ""]);
        md.AddRange(["---", ""]);

        if (report.Signatory is not null) md.Add(Escape(report.Signatory));
        if (report.SignedOn is not null) md.Add(Escape(report.SignedOn));
        if (report.Signatory is not null || report.SignedOn is not null) md.Add("");
        md.Add(Escape(report.SourceNote));

        return string.Join('\n', md.Select(line => line.TrimEnd())) + "\n";
    }

    static void Measure(List<string> md, ReportMeasure measure)
    {
        var light = measure.Light is { } l ? "，" + Light(l, measure.LightText) : "";
        md.AddRange([
            $"#### {measure.Number.ToString(CultureInfo.InvariantCulture)}. {Inline(measure.Title)}"
                + $"（{Inline(measure.StateText)}，进度{Inline(measure.ProgressText)}{light}）",
            "",
        ]);
        if (measure.SubIssue is not null) md.AddRange(["所属子问题：" + Inline(measure.SubIssue), ""]);
        foreach (var paragraph in measure.Paragraphs) md.AddRange([Escape(paragraph), ""]);
        if (measure.LatestNote is not null) md.AddRange(["最新进展：" + Inline(measure.LatestNote), ""]);
        md.AddRange([Escape(measure.Meta), ""]);
    }

    /// <summary>The charts' twelve months as one table: a column per series, a row per month.</summary>
    static void Series(List<string> md, ProgressReport report)
    {
        var charts = new[] { report.CompletionTrend }.Concat(report.KeyIndicators).ToList();
        md.AddRange(["### 主要指标月度走势", ""]);
        md.Add("| 月份 | "
            + string.Join(" | ", charts.Select(c => Inline(c.Title) + (c.MeasureUnit.Length > 0 ? $"（{Inline(c.MeasureUnit)}）" : "")))
            + " |");
        md.Add("| --- | " + string.Join(" | ", charts.Select(_ => "---:")) + " |");
        for (var i = 0; i < report.CompletionTrend.Points.Count; i++)
        {
            var row = charts.Select(c => i < c.Points.Count && c.Points[i].Value is { } v
                ? ReportText.Number(v) + (c.Points[i].Final ? "" : "（未发布）")
                : "—");
            md.Add($"| {Inline(report.CompletionTrend.Points[i].Period)} | {string.Join(" | ", row)} |");
        }
        md.Add("");
        if (report.CompletionTrend.Note is not null) md.AddRange(["注：完成率" + Inline(report.CompletionTrend.Note) + "；“—”为当月无数据。", ""]);
    }

    static string Light(TrafficLight? light, string text) => light == TrafficLight.Red ? $"**{Inline(text)}**" : Inline(text);

    /// <summary>
    /// Data as a Markdown line of text: every character that could start emphasis, code, a link, HTML, an entity or a
    /// table cell is backslash-escaped, and so is a line start that would make a heading, a list or a quote. Line breaks
    /// never reach here (titles are one line, paragraphs are split), so one string is at most one line.
    /// </summary>
    public static string Escape(string? text)
    {
        var escaped = new StringBuilder(Inline(text));
        // At the start of a line: - + = make lists or setext headings, "1." and "1)" ordered lists.
        if (escaped.Length > 0 && escaped[0] is '-' or '+' or '=') escaped.Insert(0, '\\');
        var digits = 0;
        while (digits < escaped.Length && char.IsAsciiDigit(escaped[digits])) digits++;
        if (digits > 0 && digits < escaped.Length && escaped[digits] is '.' or ')') escaped.Insert(digits, '\\');
        return escaped.ToString();
    }

    /// <summary>Data that does not start a line (in a heading, a table cell, after a label), where no line-start rule applies.</summary>
    public static string Inline(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (char.IsControl(c)) continue;
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '|' or '~' or '&' or '#' or '!' or '{' or '}') escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}
