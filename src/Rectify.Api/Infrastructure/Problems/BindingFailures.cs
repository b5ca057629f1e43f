using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Primitives;
using Rectify.Api.Infrastructure.Http;
using ProblemDetails = Microsoft.AspNetCore.Mvc.ProblemDetails;

namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// A route, query or header value that did not bind to its parameter (minimal APIs throw a
/// <see cref="BadHttpRequestException"/> for it, <c>ThrowOnBadRequest</c>). The parameter is found again from the
/// endpoint's parameter metadata (<see cref="IParameterBindingMetadata"/>) and the request — a required value that is
/// absent, or a value its type does not parse — never from the exception's text.
/// </summary>
static class BindingFailures
{
    /// <summary>The problem of the parameter that did not bind; null when no parameter of the endpoint failed.</summary>
    public static ProblemDetails? Describe(HttpContext http, Endpoint? endpoint)
    {
        var bindings = endpoint?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [];
        foreach (var binding in bindings)
        {
            var parameter = binding.ParameterInfo;
            if (Values(http, parameter) is not { } values) continue;
            var name = NameOf(binding);
            if (StringValues.IsNullOrEmpty(values))
            {
                if (!binding.IsOptional && Nullable.GetUnderlyingType(parameter.ParameterType) is null) return ParameterProblem(name, "A value is required.");
                continue;
            }
            var type = ValueType(parameter.ParameterType);
            if (values.All(value => string.IsNullOrEmpty(value) || Parses(type, value!, out _))) continue;
            // A parameter with rules of its own ([Required], [Month]) is checked as request validation checks the
            // request, in the same words and together with the other parameters' rules.
            if (parameter.GetCustomAttributes<ValidationAttribute>().Any()) return ValidationProblem(http, bindings);
            return ParameterProblem(name, type == typeof(Instant) ? Instants.Message(name) : "The value is not valid.");
        }
        return null;
    }

    static string NameOf(IParameterBindingMetadata binding) => JsonNamingPolicy.CamelCase.ConvertName(binding.ParameterInfo.Name ?? binding.Name);

    /// <summary>Every route, query and header parameter's rules checked against the text the request sent for it.</summary>
    static HttpValidationProblemDetails ValidationProblem(HttpContext http, IEnumerable<IParameterBindingMetadata> bindings)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var binding in bindings)
        {
            var rules = binding.ParameterInfo.GetCustomAttributes<ValidationAttribute>().ToList();
            if (rules.Count == 0 || Values(http, binding.ParameterInfo) is not { } values) continue;
            var name = NameOf(binding);
            if (Broken(ValueType(binding.ParameterInfo.ParameterType), values.ToString(), rules, name) is { } message) errors[name] = [message];
        }
        return new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest, Type = ProblemTypes.Validation, Title = Problem.ValidationTitle, Detail = Problem.ValidationDetail,
        };
    }

    /// <summary>The message of the first rule <paramref name="text"/> breaks; a value that does not parse breaks the format rule.</summary>
    static string? Broken(Type type, string text, List<ValidationAttribute> rules, string name)
    {
        if (string.IsNullOrWhiteSpace(text)) return rules.OfType<RequiredAttribute>().FirstOrDefault()?.FormatErrorMessage(name);
        if (!Parses(type, text, out var value))
            return (rules.OfType<RegularExpressionAttribute>().FirstOrDefault() ?? rules.FirstOrDefault(r => r is not RequiredAttribute))?.FormatErrorMessage(name)
                ?? "The value is not valid.";
        return rules.FirstOrDefault(rule => !rule.IsValid(value))?.FormatErrorMessage(name);
    }

    // The parameter's name only: the CLR type means nothing to a caller. Names of [AsParameters] properties are C# names
    // (Limit, DueBefore); the caller sent the query parameter in camelCase (limit, dueBefore), as the document names it.
    static HttpValidationProblemDetails ParameterProblem(string name, string message)
        => new(new Dictionary<string, string[]> { [name] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.Validation,
            Title = Problem.ValidationTitle,
            Detail = $"Parameter '{name}': {message}",
        };

    /// <summary>The values the request holds for a route, query or header parameter; null for a body, a service or the like.</summary>
    static StringValues? Values(HttpContext http, ParameterInfo parameter)
    {
        var attributes = parameter.GetCustomAttributes().ToList();
        if (attributes.OfType<IFromHeaderMetadata>().FirstOrDefault() is { } header) return http.Request.Headers[header.Name ?? parameter.Name!];
        if (attributes.OfType<IFromQueryMetadata>().FirstOrDefault() is { } query) return http.Request.Query[query.Name ?? parameter.Name!];
        if (attributes.OfType<IFromRouteMetadata>().FirstOrDefault() is { } route)
            return http.Request.RouteValues.TryGetValue(route.Name ?? parameter.Name!, out var routed) ? new StringValues(routed?.ToString()) : StringValues.Empty;
        if (attributes.Any(a => a is IFromBodyMetadata or IFromServiceMetadata or IFromFormMetadata)) return null;
        if (http.Request.RouteValues.TryGetValue(parameter.Name!, out var value)) return new StringValues(value?.ToString());
        var type = ValueType(parameter.ParameterType);
        return type == typeof(string) || TryParseMethod(type) is not null || type.IsEnum ? http.Request.Query[parameter.Name!] : (StringValues?)null;
    }

    /// <summary>The type of one value: the element of an array, the type under a nullable.</summary>
    static Type ValueType(Type type)
    {
        var element = type.IsArray ? type.GetElementType()! : type;
        return Nullable.GetUnderlyingType(element) ?? element;
    }

    static bool Parses(Type type, string value, out object? parsed)
    {
        parsed = value;
        if (type == typeof(string)) return true;
        if (type.IsEnum) return Enum.TryParse(type, value, ignoreCase: true, out parsed);
        if (TryParseMethod(type) is not { } tryParse) return true;
        var args = new object?[] { value, CultureInfo.InvariantCulture, null };
        var parses = (bool)tryParse.Invoke(null, args)!;
        parsed = args[2];
        return parses;
    }

    /// <summary><c>static bool TryParse(string, IFormatProvider, out T)</c>, as <see cref="IParsable{TSelf}"/> has it.</summary>
    static MethodInfo? TryParseMethod(Type type)
        => type.GetMethod("TryParse", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(IFormatProvider), type.MakeByRefType()]);
}
