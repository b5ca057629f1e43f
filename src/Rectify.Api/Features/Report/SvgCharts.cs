using System.Globalization;
using System.Text;
using static Rectify.Api.Features.Report.HtmlReport;

namespace Rectify.Api.Features.Report;

/// <summary>
/// Small inline SVG charts of a monthly series: no script, no external resource, so that the page renders offline, under
/// a strict Content-Security-Policy, and in print. A month without a value is a gap, never a zero.
/// </summary>
public static class SvgCharts
{
    const double Width = 340, Height = 184;
    const double Left = 48, Right = 14, Top = 26, Bottom = 36;
    const double PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;

    public static string Render(ReportChart chart, string cssClass)
    {
        var points = chart.Points;
        var values = points.Select(p => p.Value).OfType<decimal>().ToList();
        var (low, high, step) = Scale(values, chart.Target, chart.Maximum);
        var slot = PlotWidth / Math.Max(points.Count, 1);
        double X(int index) => Left + slot * (index + 0.5);
        double Y(decimal value) => Top + PlotHeight * (1 - (double)((value - low) / (high - low)));

        var svg = new StringBuilder();
        var label = $"{chart.Title}（{(chart.MeasureUnit.Length > 0 ? "单位：" + chart.MeasureUnit : "无单位")}"
            + $"），{ReportText.PeriodName(points.FirstOrDefault()?.Period ?? "")}至{ReportText.PeriodName(points.LastOrDefault()?.Period ?? "")}";
        svg.Append(Invariant($"<svg class=\"chart {cssClass}\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\""))
            .Append(Invariant($" role=\"img\" aria-label=\"{Encode(label)}\">"));
        svg.Append("<title>").Append(Encode(label)).Append("</title>");

        // Grid and the value axis.
        for (var tick = low; tick <= high; tick += step)
        {
            var y = Y(tick);
            svg.Append(Invariant($"<line class=\"grid{(tick == 0 ? " zero" : "")}\" x1=\"{Left}\" y1=\"{y:0.#}\""))
                .Append(Invariant($" x2=\"{Width - Right}\" y2=\"{y:0.#}\"/>"));
            svg.Append(Invariant($"<text class=\"tick\" x=\"{Left - 5}\" y=\"{y + 3.5:0.#}\" text-anchor=\"end\">{Encode(Compact(tick))}</text>"));
        }

        // Month axis: every month, and the year under its first month and under each January.
        for (var i = 0; i < points.Count; i++)
        {
            var (year, month) = YearMonth(points[i].Period);
            svg.Append(Invariant($"<text class=\"tick\" x=\"{X(i):0.#}\" y=\"{Top + PlotHeight + 13:0.#}\" text-anchor=\"middle\">{month}月</text>"));
            if (i == 0 || month == 1)
                svg.Append(Invariant($"<text class=\"tick year\" x=\"{X(i):0.#}\" y=\"{Top + PlotHeight + 26:0.#}\""))
                    .Append(Invariant($" text-anchor=\"middle\">{year}</text>"));
        }

        if (chart.Target is { } target)
        {
            var y = Y(target);
            svg.Append(Invariant($"<line class=\"target\" x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\"/>"));
            // At the left end: the latest value is written at the right one.
            svg.Append(Invariant($"<text class=\"tick target-label\" x=\"{Left + 4}\" y=\"{y - 4:0.#}\""))
                .Append(Invariant($" text-anchor=\"start\">目标 {Encode(Compact(target))}</text>"));
        }

        if (values.Count == 0)
        {
            svg.Append(Invariant($"<text class=\"empty\" x=\"{Left + PlotWidth / 2:0.#}\""))
                .Append(Invariant($" y=\"{Top + PlotHeight / 2:0.#}\" text-anchor=\"middle\">暂无数据</text>"));
        }
        else if (chart.Bars)
        {
            var baseline = Y(Math.Clamp(0, low, high));
            for (var i = 0; i < points.Count; i++)
            {
                if (points[i].Value is not { } value) continue;
                var y = Y(value);
                svg.Append(Invariant($"<rect class=\"bar\" x=\"{X(i) - slot * 0.3:0.#}\" y=\"{Math.Min(y, baseline):0.#}\""))
                    .Append(Invariant($" width=\"{slot * 0.6:0.#}\" height=\"{Math.Max(Math.Abs(baseline - y), 0.5):0.#}\"/>"));
            }
        }
        else
        {
            // One polyline per run of consecutive months with values: a missing month breaks the line.
            var run = new List<string>();
            void Flush()
            {
                if (run.Count > 1) svg.Append("<polyline class=\"line\" points=\"").Append(string.Join(' ', run)).Append("\"/>");
                run.Clear();
            }
            for (var i = 0; i < points.Count; i++)
            {
                if (points[i].Value is { } value) run.Add(Invariant($"{X(i):0.#},{Y(value):0.#}"));
                else Flush();
            }
            Flush();
            for (var i = 0; i < points.Count; i++)
            {
                if (points[i].Value is { } value)
                    svg.Append(Invariant($"<circle class=\"{(points[i].Final ? "dot" : "dot open")}\""))
                        .Append(Invariant($" cx=\"{X(i):0.#}\" cy=\"{Y(value):0.#}\" r=\"2.8\"/>"));
            }
        }

        // The latest value is written out: it is the figure the report is about.
        var last = points.Select((p, i) => (p.Value, i)).LastOrDefault(p => p.Value is not null);
        if (last.Value is { } latest)
        {
            var text = ReportText.Number(latest) + (chart.MeasureUnit == "%" ? "%" : "");
            var anchor = last.i >= points.Count - 2 ? "end" : "middle";
            var x = anchor == "end" ? X(last.i) + Math.Min(slot / 2, 6) : X(last.i);
            // Above the point, unless that would run into the top of the chart or onto the target line: then below it.
            var above = Y(latest) - 7;
            var y = above < Top + 4 || (chart.Target is { } t && !chart.Bars && Math.Abs(above - 4 - Y(t)) < 8) ? Y(latest) + 15 : above;
            svg.Append(Invariant($"<text class=\"value\" x=\"{x:0.#}\" y=\"{y:0.#}\" text-anchor=\"{anchor}\">{Encode(text)}</text>"));
        }

        svg.Append(Invariant($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top + PlotHeight:0.#}\""))
            .Append(Invariant($" x2=\"{Width - Right}\" y2=\"{Top + PlotHeight:0.#}\"/>"));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A value axis from zero (or below it) to a round number above the data, in four or five steps.</summary>
    internal static (decimal Low, decimal High, decimal Step) Scale(IReadOnlyList<decimal> values, decimal? target, decimal? maximum)
    {
        var all = values.Concat(target is { } t ? [t] : []).Concat(maximum is { } m ? [m] : []).ToList();
        var min = Math.Min(0, all.Count == 0 ? 0 : all.Min());
        var max = Math.Max(0, all.Count == 0 ? 0 : all.Max());
        if (max == min) max = min + 1;
        var step = NiceStep((max - min) / 4);
        // Counts have no fractions: an axis of 0.25 people says nothing.
        if (all.All(v => v == Math.Truncate(v))) step = Math.Max(step, 1);
        var low = Math.Floor(min / step) * step;
        var high = Math.Ceiling(max / step) * step;
        // Room above the highest value for its label, unless the scale is fixed (a rate ends at 100).
        if (maximum is null && values.Count > 0 && values.Max() == high) high += step;
        return (low, high == low ? low + step : high, step);
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten: steps people read at a glance.</summary>
    static decimal NiceStep(decimal raw)
    {
        var power = 1m;
        while (power * 10 <= raw && power < 1e20m) power *= 10;
        while (power > raw && power > 1e-6m) power /= 10;
        foreach (var factor in new[] { 1m, 2m, 2.5m, 5m, 10m })
        {
            if (power * factor >= raw) return power * factor;
        }
        return power * 10;
    }

    /// <summary>A tick label in the units Chinese readers count in: 18.6万 rather than 186000.</summary>
    internal static string Compact(decimal value) => Math.Abs(value) switch
    {
        >= 100_000_000 => ReportText.Number(value / 100_000_000) + "亿",
        >= 100_000 => ReportText.Number(value / 10_000) + "万",
        _ => ReportText.Number(value),
    };

    static (int Year, int Month) YearMonth(string period)
        => Period.TryParse(period) is { Frequency: IndicatorFrequency.Monthly } p ? (p.Year, p.Index) : (0, 0);

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
