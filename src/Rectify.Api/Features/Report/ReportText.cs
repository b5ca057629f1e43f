using System.Globalization;
using Rectify.Api.Features.Indicators;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;

namespace Rectify.Api.Features.Report;

/// <summary>
/// The report's Chinese wording of numbers, dates, periods and states, in one place so that the HTML and the Markdown
/// say exactly the same thing. Numbers are culture-invariant: a server's locale must not change a published figure.
/// </summary>
public static class ReportText
{
    static readonly string[] Digits = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

    /// <summary>一, 二 … 十, 十一 … 九十九: the numbering of sections and problem areas.</summary>
    public static string Chinese(int n) => n switch
    {
        < 0 or > 99 => Integer(n),
        < 10 => Digits[n],
        < 20 => "十" + (n % 10 == 0 ? "" : Digits[n % 10]),
        _ => Digits[n / 10] + "十" + (n % 10 == 0 ? "" : Digits[n % 10]),
    };

    public static string Integer(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>A data value as the report prints it: at most two decimals, no thousands separator, no trailing zeros.</summary>
    public static string Number(decimal value) => Math.Round(value, 2, MidpointRounding.AwayFromZero).ToString("0.##", CultureInfo.InvariantCulture);

    public static string Percent(decimal value) => Number(value) + "%";

    /// <summary>A value with its unit of measure: 75项, 93.6%, 2210元/人·月.</summary>
    public static string Figure(decimal value, string measureUnit) => Number(value) + measureUnit;

    public static string Date(DateOnly date) => string.Create(CultureInfo.InvariantCulture, $"{date.Year}年{date.Month}月{date.Day}日");

    /// <summary>A local time to the minute, as a clock shows it: 2025-11-05 10:00.</summary>
    public static string Instant(DateTime local) => local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>2025年10月, 2025年第三季度, 2025年.</summary>
    public static string PeriodName(Period period) => period.Frequency switch
    {
        IndicatorFrequency.Monthly => string.Create(CultureInfo.InvariantCulture, $"{period.Year}年{period.Index}月"),
        IndicatorFrequency.Quarterly => string.Create(CultureInfo.InvariantCulture, $"{period.Year}年第{Chinese(period.Index)}季度"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{period.Year}年"),
    };

    public static string PeriodName(string period) => Period.TryParse(period) is { } parsed ? PeriodName(parsed) : period;

    /// <summary>The unit a change is measured against: 较上月, 较上季度, 较上年.</summary>
    public static string PreviousName(string period) => Period.TryParse(period)?.Frequency switch
    {
        IndicatorFrequency.Quarterly => "较上季度",
        IndicatorFrequency.Yearly => "较上年",
        _ => "较上月",
    };

    /// <summary>A change with its direction in words; a percentage changes by 个百分点, not by percent.</summary>
    public static string Change(decimal change, string measureUnit)
    {
        if (Math.Round(change, 2) == 0) return "持平";
        var unit = measureUnit == "%" ? "个百分点" : measureUnit;
        return (change > 0 ? "增加" : "减少") + Number(Math.Abs(change)) + unit;
    }

    public static string State(IssueState state) => state switch
    {
        IssueState.Open => "未启动",
        IssueState.InProgress => "推进中",
        IssueState.PendingReview => "待销号",
        IssueState.Closed => "已销号",
        IssueState.LongTerm => "长期坚持",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static string State(MeasureState state) => state switch
    {
        MeasureState.Planned => "计划",
        MeasureState.InProgress => "推进中",
        MeasureState.Done => "已完成",
        MeasureState.Cancelled => "已取消",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static string Light(TrafficLight? light) => light switch
    {
        TrafficLight.Red => "逾期",
        TrafficLight.Yellow => "临期",
        TrafficLight.Green => "正常",
        _ => "—",
    };

    /// <summary>How urgent a light is, the most urgent first.</summary>
    public static int Urgency(TrafficLight? light) => light switch
    {
        TrafficLight.Red => 0,
        TrafficLight.Yellow => 1,
        TrafficLight.Green => 2,
        _ => 3,
    };

    /// <summary>Free text split into its paragraphs (non-empty lines), trimmed.</summary>
    public static IReadOnlyList<string> Paragraphs(string? text)
        => string.IsNullOrWhiteSpace(text) ? [] : text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToList();

    /// <summary>Free text on one line (a title, a note in a table): line breaks become spaces.</summary>
    public static string OneLine(string? text)
        => string.IsNullOrEmpty(text)
            ? ""
            : string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
