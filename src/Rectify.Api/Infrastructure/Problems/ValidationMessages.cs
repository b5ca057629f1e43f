using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// What a broken validation attribute says, built from the attribute itself (its type and its values: the bounds of a
/// <c>[Range]</c>, the lengths of a <c>[StringLength]</c>), never from the framework's English text: the stock messages
/// name the C# property and print <c>long.MaxValue</c> as <c>9.223372036854776E+18</c>; these name the field as the
/// caller does, read as a person would say them, and are translatable <see cref="Text"/>. A message an attribute sets
/// itself (<c>ErrorMessage</c>, or an attribute of the service's own) is said as it is.
/// </summary>
static class ValidationMessages
{
    /// <summary>What <paramref name="rule"/> says about <paramref name="field"/> (named as the caller names it) when it is broken.</summary>
    public static Text For(string field, ValidationAttribute rule) => rule switch
    {
        _ when rule.GetType().Namespace != typeof(ValidationAttribute).Namespace => Text.Plain(rule.FormatErrorMessage(field)),
        // [Url] sets its stock message as its own ErrorMessage.
        UrlAttribute => $"{field} must be an absolute http or https URL.",
        { ErrorMessage: { Length: > 0 } own } => new Text(own, field),
        RangeAttribute range when IsUnbounded(range.Maximum) => $"{field} must be a whole number of at least {range.Minimum}.",
        RangeAttribute range => $"{field} must be between {range.Minimum} and {range.Maximum}.",
        StringLengthAttribute { MinimumLength: 1 } text => $"{field} must not be empty and at most {text.MaximumLength} characters long.",
        StringLengthAttribute { MinimumLength: > 1 } text => $"{field} must be {text.MinimumLength} to {text.MaximumLength} characters long.",
        StringLengthAttribute text => $"{field} must be at most {text.MaximumLength} characters long.",
        MinLengthAttribute { Length: 1 } => $"{field} must not be empty.",
        MinLengthAttribute items => $"{field} must have at least {items.Length} items.",
        MaxLengthAttribute items => $"{field} must have at most {items.Length} items.",
        RegularExpressionAttribute => $"{field} is not in the expected format.",
        RequiredAttribute => $"{field} is required.",
        AllowedValuesAttribute allowed => $"{field} must be one of: {string.Join(", ", allowed.Values)}.",
        _ => $"{field} is not valid.",
    };

    /// <summary>
    /// <paramref name="message"/>, which request validation gave for its key <paramref name="key"/> (<c>Items[0].Name</c>,
    /// <c>Limit</c>), as the attribute that broke says it about <paramref name="field"/>. The attribute is the one, among the
    /// rules of the member the key names (found from the endpoint's parameters), that gives exactly this message; a
    /// message no rule gives is said as it is.
    /// </summary>
    public static Text Describe(Endpoint? endpoint, string key, string field, string message)
    {
        var member = key.Split('.')[^1].Split('[')[0];
        var broken = RulesAt(endpoint, key).FirstOrDefault(rule => Gives(rule, member, message));
        return broken is null ? Text.Plain(message) : For(field, broken);
    }

    static bool Gives(ValidationAttribute rule, string member, string message)
    {
        try
        {
            return rule.FormatErrorMessage(member) == message;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// The rules of what <paramref name="key"/> names: a parameter of the endpoint, or a member of one's type (a body, [AsParameters]).
    /// </summary>
    static IEnumerable<ValidationAttribute> RulesAt(Endpoint? endpoint, string key)
    {
        var path = key.Split('.').Select(part => part.Split('[')[0]).ToArray();
        foreach (var binding in endpoint?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [])
        {
            var parameter = binding.ParameterInfo;
            if (path.Length == 1 && string.Equals(parameter.Name, path[0], StringComparison.OrdinalIgnoreCase))
                return parameter.GetCustomAttributes<ValidationAttribute>();
            if (MemberRules(parameter.ParameterType, path) is { } rules) return rules;
        }
        return [];
    }

    static List<ValidationAttribute>? MemberRules(Type type, string[] path)
    {
        for (var i = 0; i < path.Length; i++)
        {
            var property = type.GetProperty(path[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null) return null;
            if (i == path.Length - 1)
            {
                // A record's positional member carries its attributes on the constructor's parameter.
                var positional = type.GetConstructors().SelectMany(c => c.GetParameters())
                    .Where(p => string.Equals(p.Name, property.Name, StringComparison.OrdinalIgnoreCase));
                return [.. property.GetCustomAttributes<ValidationAttribute>(),
                    .. positional.SelectMany(p => p.GetCustomAttributes<ValidationAttribute>())];
            }
            type = ItemType(property.PropertyType);
        }
        return null;
    }

    /// <summary>The type of an item of a list (the type itself when it is not one).</summary>
    static Type ItemType(Type type)
    {
        if (type.IsArray) return type.GetElementType()!;
        if (type != typeof(string) && type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType
                && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)) is { } enumerable) return enumerable.GetGenericArguments()[0];
        return Nullable.GetUnderlyingType(type) ?? type;
    }

    // [Range(1, long.MaxValue)] and [Range(1, int.MaxValue)]: no upper bound a caller needs to know.
    static bool IsUnbounded(object maximum)
        => double.TryParse(Convert.ToString(maximum, CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && value >= int.MaxValue;
}
