using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Indicators;

/// <summary>count: 项/人/个…; amount: money (元, 万元, 亿元); percent: a pushed percentage; ratio: numerator / denominator, computed.</summary>
public enum IndicatorValueType { Count, Amount, Percent, Ratio }

/// <summary>How the values of child regions combine into their parent's.</summary>
public enum RegionAggregation { Sum, Average, None }

/// <summary>flow: the period's own amount; stock: a level at period end; cumulative: year to date.</summary>
public enum TimeAggregation { Flow, Stock, Cumulative }

public enum IndicatorDirection { HigherIsBetter, LowerIsBetter }

/// <summary>Something counted or measured (指标), with how its values combine and what it aims for.</summary>
public sealed record IndicatorResponse
{
    public required string Code { get; init; }
    public required string Name { get; init; }
    public string? NameEn { get; init; }
    public string? Description { get; init; }
    [Description("Unit of measure, e.g. 项, 人, 人次, 个, 元, 万元, 亿元, %.")]
    public required string MeasureUnit { get; init; }
    public required IndicatorValueType ValueType { get; init; }
    public required IndicatorFrequency Frequency { get; init; }
    public required RegionAggregation RegionAggregation { get; init; }
    public required TimeAggregation TimeAggregation { get; init; }
    public required IndicatorDirection Direction { get; init; }
    public decimal? TargetValue { get; init; }
    public DateOnly? TargetDate { get; init; }
    public decimal? BaselineValue { get; init; }
    public string? BaselinePeriod { get; init; }
    [Description("Ratio indicators only: the indicator divided.")]
    public string? Numerator { get; init; }
    [Description("Ratio indicators only: the indicator divided by.")]
    public string? Denominator { get; init; }
    [Description("Day of the month after the period by which each reporter must have pushed its value.")]
    public int? ReportingDay { get; init; }
    [Description("Codes of the units expected to report this indicator.")]
    public required IReadOnlyList<string> Reporters { get; init; }
    [Description("Ids of the issues this indicator measures.")]
    public required IReadOnlyList<long> Issues { get; init; }
    [Description("Ids of the measures this indicator measures.")]
    public required IReadOnlyList<long> Measures { get; init; }
    public required DateTime CreatedAt { get; init; }
    public required DateTime UpdatedAt { get; init; }
}

/// <summary>The fields a caller sets on an indicator, shared by create and update.</summary>
public abstract record IndicatorFields
{
    [Description("Name in Chinese, e.g. 累计取消收费项目数.")]
    [StringLength(300, MinimumLength = 1)]
    public required string Name { get; init; }

    [StringLength(300)]
    public string? NameEn { get; init; }

    [StringLength(5000)]
    public string? Description { get; init; }

    [Description("Unit of measure, e.g. 项, 人, 人次, 个, 元, 万元, 亿元, %.")]
    [StringLength(20, MinimumLength = 1)]
    public required string MeasureUnit { get; init; }

    public required IndicatorValueType ValueType { get; init; }

    [Description("Reporting frequency; every value's period must be of this kind (YYYY-MM, YYYY-Qn, YYYY).")]
    public required IndicatorFrequency Frequency { get; init; }

    public required RegionAggregation RegionAggregation { get; init; }

    public required TimeAggregation TimeAggregation { get; init; }

    public required IndicatorDirection Direction { get; init; }

    public decimal? TargetValue { get; init; }

    public DateOnly? TargetDate { get; init; }

    [Description("Starting level; given together with baselinePeriod.")]
    public decimal? BaselineValue { get; init; }

    [Description("Period of the baseline, of the indicator's frequency.")]
    [StringLength(7)]
    public string? BaselinePeriod { get; init; }

    [Description("Ratio indicators only (required there): code of the numerator indicator.")]
    [StringLength(64)]
    public string? Numerator { get; init; }

    [Description("Ratio indicators only (required there): code of the denominator indicator.")]
    [StringLength(64)]
    public string? Denominator { get; init; }

    [Description("Day (1–28) of the month after the period by which reporters must push their value.")]
    [Range(1, 28)]
    public int? ReportingDay { get; init; }

    [Description("Codes of the units expected to report this indicator.")]
    [MaxLength(1000)]
    public IReadOnlyList<string> Reporters { get; init; } = [];

    [Description("Ids of the issues this indicator measures.")]
    [MaxLength(1000)]
    public IReadOnlyList<long> Issues { get; init; } = [];

    [Description("Ids of the measures this indicator measures.")]
    [MaxLength(1000)]
    public IReadOnlyList<long> Measures { get; init; } = [];
}

public sealed record CreateIndicatorRequest : IndicatorFields
{
    [Description("Stable code, e.g. FEE-ITEMS-CANCELLED.")]
    [Required(ErrorMessage = Codes.RoundPatternMessage)] // RegularExpression lets an empty string through
    [RegularExpression(Codes.RoundPattern, ErrorMessage = Codes.RoundPatternMessage)]
    public required string Code { get; init; }
}

public sealed record UpdateIndicatorRequest : IndicatorFields;

public sealed record IndicatorListQuery : PageRequest
{
    [Description("Only indicators linked to this issue id.")]
    public long? Issue { get; init; }

    [Description("Only indicators linked to this measure id.")]
    public long? Measure { get; init; }

    [Description("Only indicators of this value type.")]
    public string? ValueType { get; init; }

    [Description("Text to find in the code or names (Chinese or not, case-insensitive), e.g. 彩票.")]
    [StringLength(200)]
    public string? Q { get; init; }
}

sealed class IndicatorRow : IVersionedRow
{
    public long Id { get; init; }
    public string Code { get; init; } = "";
    public string Name { get; init; } = "";
    public string? NameEn { get; init; }
    public string? Description { get; init; }
    public string MeasureUnit { get; init; } = "";
    public string ValueType { get; init; } = "";
    public string Frequency { get; init; } = "";
    public string RegionAggregation { get; init; } = "";
    public string TimeAggregation { get; init; } = "";
    public string Direction { get; init; } = "";
    public decimal? TargetValue { get; init; }
    public DateOnly? TargetDate { get; init; }
    public decimal? BaselineValue { get; init; }
    public string? BaselinePeriod { get; init; }
    public string? NumeratorCode { get; init; }
    public string? DenominatorCode { get; init; }
    public short? ReportingDay { get; init; }
    public string[] Reporters { get; init; } = [];
    public long[] Issues { get; init; } = [];
    public long[] Measures { get; init; } = [];
    public int Version { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }

    public IndicatorFrequency FrequencyValue => EnumText.Parse<IndicatorFrequency>(Frequency);

    public IndicatorResponse ToResponse() => new()
    {
        Code = Code, Name = Name, NameEn = NameEn, Description = Description, MeasureUnit = MeasureUnit,
        ValueType = EnumText.Parse<IndicatorValueType>(ValueType), Frequency = FrequencyValue,
        RegionAggregation = EnumText.Parse<RegionAggregation>(RegionAggregation), TimeAggregation = EnumText.Parse<TimeAggregation>(TimeAggregation),
        Direction = EnumText.Parse<IndicatorDirection>(Direction), TargetValue = TargetValue, TargetDate = TargetDate,
        BaselineValue = BaselineValue, BaselinePeriod = BaselinePeriod, Numerator = NumeratorCode, Denominator = DenominatorCode,
        ReportingDay = ReportingDay, Reporters = Reporters, Issues = Issues, Measures = Measures,
        CreatedAt = CreatedAt, UpdatedAt = UpdatedAt,
    };
}
