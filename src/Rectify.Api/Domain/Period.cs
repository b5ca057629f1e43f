using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Rectify.Api.Domain;

public enum IndicatorFrequency { Monthly, Quarterly, Yearly }

/// <summary>
/// A reporting period as the API spells it: <c>YYYY-MM</c> (monthly), <c>YYYY-Qn</c> (quarterly) or <c>YYYY</c>
/// (yearly). Stored as that text, which sorts in time order within one frequency.
/// </summary>
public readonly record struct Period(int Year, int Index, IndicatorFrequency Frequency) : IComparable<Period>, IParsable<Period>
{
    /// <summary>Any period (years 1900–2999), as the OpenAPI document and request validation state it.</summary>
    public const string Pattern = "^(19[0-9]{2}|2[0-9]{3})(-(0[1-9]|1[0-2])|-Q[1-4])?$";

    /// <summary>A month, YYYY-MM: snapshots, reports and completeness are monthly.</summary>
    public const string MonthPattern = "^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])$";

    public const string MonthMessage = "Use a month: YYYY-MM, e.g. 2025-10.";
    public const string PeriodMessage = "Use a period: YYYY-MM, YYYY-Qn or YYYY, e.g. 2025-09.";

    /// <summary>Parses exactly one of the three spellings; null for anything else.</summary>
    public static Period? TryParse(string? text)
    {
        if (text is null) return null;
        var span = text.AsSpan();
        if (span.Length < 4 || !int.TryParse(span[..4], NumberStyles.None, CultureInfo.InvariantCulture, out var year) || year < 1900 || year > 2999)
            return null;
        if (span.Length == 4) return new Period(year, 1, IndicatorFrequency.Yearly);
        if (span.Length == 7 && span[4] == '-' && span[5] == 'Q' && span[6] is >= '1' and <= '4')
            return new Period(year, span[6] - '0', IndicatorFrequency.Quarterly);
        if (span.Length == 7 && span[4] == '-' && char.IsAsciiDigit(span[5]) && char.IsAsciiDigit(span[6]))
        {
            var month = (span[5] - '0') * 10 + (span[6] - '0');
            if (month is >= 1 and <= 12) return new Period(year, month, IndicatorFrequency.Monthly);
        }
        return null;
    }

    /// <summary>
    /// Binding: a route or query value that is not a period fails binding (400 naming the parameter), so handlers
    /// take a <see cref="Period"/> and never parse text themselves.
    /// </summary>
    public static bool TryParse(string? s, IFormatProvider? provider, out Period result)
    {
        var parsed = TryParse(s);
        result = parsed ?? default;
        return parsed is not null;
    }

    public static Period Parse(string s, IFormatProvider? provider)
        => TryParse(s) ?? throw new FormatException(PeriodMessage);

    /// <summary>Parses a period that must have <paramref name="frequency"/>; null when it is malformed or of another frequency.</summary>
    public static Period? TryParse(string? text, IndicatorFrequency frequency)
        => TryParse(text) is { } period && period.Frequency == frequency ? period : null;

    public static string Example(IndicatorFrequency frequency) => frequency switch
    {
        IndicatorFrequency.Monthly => "YYYY-MM, e.g. 2025-09",
        IndicatorFrequency.Quarterly => "YYYY-Qn, e.g. 2025-Q3",
        _ => "YYYY, e.g. 2025",
    };

    int PerYear => Frequency switch { IndicatorFrequency.Monthly => 12, IndicatorFrequency.Quarterly => 4, _ => 1 };

    public Period Next() => Index < PerYear ? this with { Index = Index + 1 } : new Period(Year + 1, 1, Frequency);

    /// <summary>The period <paramref name="count"/> periods before this one.</summary>
    public Period Back(int count) => Enumerable.Range(0, count).Aggregate(this, (p, _) => p.Previous());

    /// <summary>The month that holds <paramref name="day"/>.</summary>
    public static Period MonthOf(DateOnly day) => new(day.Year, day.Month, IndicatorFrequency.Monthly);

    public Period Previous() => Index > 1 ? this with { Index = Index - 1 } : new Period(Year - 1, PerYear, Frequency);

    public Period YearBefore() => this with { Year = Year - 1 };

    public bool IsFirstOfYear => Index == 1;

    /// <summary>The period of <paramref name="frequency"/> that holds this month: the month itself, its quarter or its year.</summary>
    public Period Containing(IndicatorFrequency frequency) => frequency switch
    {
        IndicatorFrequency.Monthly => this,
        IndicatorFrequency.Quarterly => new Period(Year, (LastDay.Month + 2) / 3, frequency),
        _ => new Period(Year, 1, frequency),
    };

    /// <summary>The last day of the period.</summary>
    public DateOnly LastDay => Frequency switch
    {
        IndicatorFrequency.Monthly => new DateOnly(Year, Index, DateTime.DaysInMonth(Year, Index)),
        IndicatorFrequency.Quarterly => new DateOnly(Year, Index * 3, DateTime.DaysInMonth(Year, Index * 3)),
        _ => new DateOnly(Year, 12, 31),
    };

    public int CompareTo(Period other) => (Year, Index).CompareTo((other.Year, other.Index));

    public static bool operator <(Period a, Period b) => a.CompareTo(b) < 0;
    public static bool operator >(Period a, Period b) => a.CompareTo(b) > 0;
    public static bool operator <=(Period a, Period b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Period a, Period b) => a.CompareTo(b) >= 0;

    public override string ToString() => Frequency switch
    {
        IndicatorFrequency.Monthly => $"{Year:D4}-{Index:D2}",
        IndicatorFrequency.Quarterly => $"{Year:D4}-Q{Index}",
        _ => $"{Year:D4}",
    };
}

/// <summary>A month, YYYY-MM, in a query or path: validated before the handler runs and stated in the OpenAPI document.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class MonthAttribute() : RegularExpressionAttribute(Period.MonthPattern)
{
    public override string FormatErrorMessage(string name) => Period.MonthMessage;
}

/// <summary>A period of any frequency (YYYY-MM, YYYY-Qn, YYYY), as <see cref="MonthAttribute"/> for months.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class PeriodTextAttribute() : RegularExpressionAttribute(Period.Pattern)
{
    public override string FormatErrorMessage(string name) => Period.PeriodMessage;
}

/// <summary>
/// Periods are stored as their text (<c>YYYY-MM</c>, <c>YYYY-Qn</c>, <c>YYYY</c>), so a <see cref="Period"/> goes to SQL
/// as that text and a period column reads back as a <see cref="Period"/>.
/// </summary>
public sealed class PeriodTypeHandler : Dapper.SqlMapper.TypeHandler<Period>
{
    public override void SetValue(System.Data.IDbDataParameter parameter, Period value)
    {
        parameter.DbType = System.Data.DbType.String;
        parameter.Value = value.ToString();
    }

    public override Period Parse(object value)
        => Period.TryParse(value as string) ?? throw new FormatException($"'{value}' in the database is not a period.");
}
