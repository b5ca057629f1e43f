using System.Globalization;
using System.Xml.Linq;
using Rectify.Api.Features.Report;

namespace Rectify.Api.Tests.Report;

/// <summary>The renderers' small rules, without a database: gaps, scales, numbering, escaping, culture.</summary>
public sealed class ReportRenderingUnitTests
{
    static ReportChart Chart(bool bars, params decimal?[] values) => new()
    {
        Title = "指标", MeasureUnit = "项", Bars = bars,
        Points = values.Select((v, i) => new ReportPoint($"2025-{i + 1:00}", v)).ToList(),
    };

    static XElement Svg(ReportChart chart) => XElement.Parse(SvgCharts.Render(chart, "indicator"));

    [Fact]
    public void A_month_without_a_value_breaks_the_line_and_has_no_bar()
    {
        var line = Svg(Chart(false, 1, 2, null, 4, 5, 6, null, null, 9, null, 11, 12));
        // Runs 1–2, 4–6, 11–12 are lines; the lone 9 is a dot only.
        Assert.Equal(3, line.Elements("polyline").Count());
        Assert.Equal(8, line.Elements("circle").Count());

        var bars = Svg(Chart(true, 1, 2, null, 4, 5, 6, null, null, 9, null, 11, 12));
        Assert.Equal(8, bars.Elements("rect").Count());
        Assert.Empty(bars.Elements("polyline"));
    }

    [Fact]
    public void A_chart_without_data_says_so_and_labels_the_latest_value_otherwise()
    {
        var empty = Svg(Chart(false, new decimal?[12]));
        Assert.Contains(empty.Elements("text"), t => t.Value == "暂无数据");
        Assert.DoesNotContain(empty.Elements("text"), t => (string?)t.Attribute("class") == "value");

        var chart = Svg(Chart(false, 1, 2, 3, 93.6242m, null, null, null, null, null, null, null, null));
        Assert.Equal("93.62", Assert.Single(chart.Elements("text"), t => (string?)t.Attribute("class") == "value").Value);
    }

    [Theory]
    [InlineData(new double[] { 0, 93.6 }, 100.0, 0, 100)]
    [InlineData(new double[] { 6000, 7740.5 }, null, 0, 8000)]
    [InlineData(new double[] { -3, 5 }, null, -4, 6)]
    [InlineData(new double[] { 0 }, null, 0, 1)]
    [InlineData(new double[] { 1, 1 }, null, 0, 2)]
    [InlineData(new double[] { 0.2, 0.6 }, null, 0, 0.8)]
    [InlineData(new double[] { 100 }, 100.0, 0, 100)]
    public void The_value_axis_runs_from_zero_to_a_round_number_above_the_data_with_room_for_a_label(double[] values, double? maximum, double low, double high)
    {
        var scale = SvgCharts.Scale(values.Select(v => (decimal)v).ToList(), null, (decimal?)maximum);
        Assert.Equal((decimal)low, scale.Low);
        Assert.Equal((decimal)high, scale.High);
        Assert.InRange((scale.High - scale.Low) / scale.Step, 1, 6);
    }

    [Fact]
    public void A_target_at_the_top_of_the_scale_needs_no_room_above_it()
    {
        var scale = SvgCharts.Scale([93.6242m], target: 100, maximum: null);
        Assert.Equal((0m, 100m), (scale.Low, scale.High));
    }

    [Theory]
    [InlineData(1, "一")]
    [InlineData(9, "九")]
    [InlineData(10, "十")]
    [InlineData(11, "十一")]
    [InlineData(20, "二十")]
    [InlineData(21, "二十一")]
    [InlineData(99, "九十九")]
    public void Sections_are_numbered_in_chinese(int n, string expected) => Assert.Equal(expected, ReportText.Chinese(n));

    [Theory]
    [InlineData("整治殡葬乱象", "整治殡葬乱象")]
    [InlineData("<script>", "\\<script\\>")]
    [InlineData("a*b_c`d", "a\\*b\\_c\\`d")]
    [InlineData("[x](y)", "\\[x\\](y)")]
    [InlineData("a | b", "a \\| b")]
    [InlineData("&amp;", "\\&amp;")]
    [InlineData("# 标题", "\\# 标题")]
    [InlineData("- 项", "\\- 项")]
    [InlineData("+ 项", "\\+ 项")]
    [InlineData("12. 项", "12\\. 项")]
    [InlineData("3) 项", "3\\) 项")]
    [InlineData("2025-10 数据", "2025-10 数据")]
    [InlineData("a\\b", "a\\\\b")]
    public void Markdown_escapes_what_markdown_would_read_as_markup(string text, string expected) => Assert.Equal(expected, MarkdownReport.Escape(text));

    [Fact]
    public void Inside_a_heading_or_a_table_row_a_line_start_needs_no_escape()
    {
        Assert.Equal("1.1 整治殡葬乱象", MarkdownReport.Inline("1.1 整治殡葬乱象"));
        Assert.Equal("- \\<b\\> \\| x", MarkdownReport.Inline("- <b> | x"));
    }

    [Fact]
    public void Html_drops_control_characters_and_encodes_markup()
        => Assert.Equal("&lt;b title=&quot;x&quot;&gt;&amp;&#39;说明", HtmlReport.Encode("<b title=\"x\">&'\u0001说\u001F明"));

    [Fact]
    public void Figures_do_not_depend_on_the_server_culture()
    {
        var chart = Chart(false, 1.5m, 2.25m, null, 1234.5m);
        var invariant = SvgCharts.Render(chart, "indicator");
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Assert.Equal("93.62%", ReportText.Percent(93.6242m));
            Assert.Equal("减少1234.5个百分点", ReportText.Change(-1234.5m, "%"));
            Assert.Equal("18.6万", SvgCharts.Compact(186000m));
            Assert.Equal(invariant, SvgCharts.Render(chart, "indicator"));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }
}
