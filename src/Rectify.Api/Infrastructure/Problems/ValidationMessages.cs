using System.Globalization;
using System.Text.RegularExpressions;

namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// The stock messages of the validation attributes (<c>[Range]</c>, <c>[StringLength]</c>, <c>[MinLength]</c>,
/// <c>[MaxLength]</c>, <c>[Url]</c>, <c>[Required]</c>, <c>[RegularExpression]</c>) name the C# property and print
/// <c>long.MaxValue</c> as <c>9.223372036854776E+18</c>. Rewritten here, in one place, they name the field as the caller
/// does and read as a person would say them. A message an attribute sets itself is left as it is.
/// </summary>
static partial class ValidationMessages
{
    [GeneratedRegex(@"^The field \S+ must be between (?<min>\S+) and (?<max>\S+)\.$")]
    private static partial Regex Range();

    [GeneratedRegex(@"^The field \S+ must be a string with a maximum length of (?<max>\d+)\.$")]
    private static partial Regex MaxText();

    [GeneratedRegex(@"^The field \S+ must be a string with a minimum length of (?<min>\d+) and a maximum length of (?<max>\d+)\.$")]
    private static partial Regex MinMaxText();

    [GeneratedRegex(@"^The field \S+ must be a string or array type with a minimum length of '(?<min>\d+)'\.$")]
    private static partial Regex MinItems();

    [GeneratedRegex(@"^The field \S+ must be a string or array type with a maximum length of '(?<max>\d+)'\.$")]
    private static partial Regex MaxItems();

    [GeneratedRegex(@"^The field \S+ must match the regular expression '.*'\.$", RegexOptions.Singleline)]
    private static partial Regex Pattern();

    [GeneratedRegex(@"^The \S+ field is not a valid fully-qualified http, https, or ftp URL\.$")]
    private static partial Regex Url();

    [GeneratedRegex(@"^The \S+ field is required\.$")]
    private static partial Regex Required();

    /// <summary><paramref name="message"/> about <paramref name="field"/> (named as the caller names it), for a person.</summary>
    public static string Readable(string field, string message)
    {
        if (Range().Match(message) is { Success: true } range)
            return IsUnbounded(range.Groups["max"].Value)
                ? $"{field} must be a whole number of at least {range.Groups["min"].Value}."
                : $"{field} must be between {range.Groups["min"].Value} and {range.Groups["max"].Value}.";
        if (MaxText().Match(message) is { Success: true } maxText)
            return $"{field} must be at most {maxText.Groups["max"].Value} characters long.";
        if (MinMaxText().Match(message) is { Success: true } minMax)
            return minMax.Groups["min"].Value == "1"
                ? $"{field} must not be empty and at most {minMax.Groups["max"].Value} characters long."
                : $"{field} must be {minMax.Groups["min"].Value} to {minMax.Groups["max"].Value} characters long.";
        if (MinItems().Match(message) is { Success: true } minItems)
            return minItems.Groups["min"].Value == "1" ? $"{field} must not be empty." : $"{field} must have at least {minItems.Groups["min"].Value} items.";
        if (MaxItems().Match(message) is { Success: true } maxItems)
            return $"{field} must have at most {maxItems.Groups["max"].Value} items.";
        if (Pattern().IsMatch(message)) return $"{field} is not in the expected format.";
        if (Url().IsMatch(message)) return $"{field} must be an absolute http or https URL.";
        if (Required().IsMatch(message)) return $"{field} is required.";
        return message;
    }

    // [Range(1, long.MaxValue)] and [Range(1, int.MaxValue)]: no upper bound a caller needs to know.
    static bool IsUnbounded(string max)
        => double.TryParse(max, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= int.MaxValue;
}
