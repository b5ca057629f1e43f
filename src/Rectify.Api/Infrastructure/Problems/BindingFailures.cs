using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Primitives;
using Rectify.Api.Infrastructure.Http;

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
    public static ProblemWords? Describe(HttpContext http, IExceptionHandlerFeature? failure)
    {
        // The exception handler clears the request's endpoint and route values; the failure keeps them.
        var request = new Request(http, failure?.RouteValues ?? http.Request.RouteValues);
        var parameters = Parameters(failure?.Endpoint).ToList();
        foreach (var parameter in parameters)
        {
            if (Values(request, parameter) is not { } values) continue;
            if (values.Count == 0)
            {
                if (!parameter.Optional) return ParameterProblem(parameter.Name, "A value is required.");
                continue;
            }
            // An empty value (period=) does not parse either: only text is a value of every text.
            var type = ValueType(parameter.Type);
            if (values.All(value => Parses(type, value ?? "", out _))) continue;
            // A parameter with rules of its own ([Required], [Month]) is checked as request validation checks the
            // request, in the same words and together with the other parameters' rules.
            if (parameter.Attributes.OfType<ValidationAttribute>().Any()) return ValidationProblem(request, parameters);
            return ParameterProblem(parameter.Name, type == typeof(Instant) ? Instants.Message(parameter.Name) : NotValid);
        }
        return null;
    }

    /// <summary>A value the handler binds: a parameter, or a property of an [AsParameters] one, named as the caller names it.</summary>
    sealed record Bound(string Name, string SourceName, Type Type, Attribute[] Attributes, bool Optional);

    /// <summary>What the endpoint binds (<see cref="IParameterBindingMetadata"/>), with [AsParameters] types opened up.</summary>
    static IEnumerable<Bound> Parameters(Endpoint? endpoint)
    {
        foreach (var binding in endpoint?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [])
        {
            var parameter = binding.ParameterInfo;
            var name = parameter.Name ?? binding.Name;
            if (parameter.GetCustomAttribute<AsParametersAttribute>() is null)
            {
                var optional = binding.IsOptional || Nullable.GetUnderlyingType(parameter.ParameterType) is not null;
                yield return new Bound(CamelCase(name), name, parameter.ParameterType, [.. parameter.GetCustomAttributes()], optional);
                continue;
            }
            foreach (var property in parameter.ParameterType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                yield return new Bound(CamelCase(property.Name), property.Name, property.PropertyType, [.. property.GetCustomAttributes()],
                    Optional: true);
        }
    }

    static string CamelCase(string name) => JsonNamingPolicy.CamelCase.ConvertName(name);

    /// <summary>Every route, query and header parameter's rules checked against the text the request sent for it.</summary>
    const string NotValid = "The value is not valid.";

    static ProblemWords ValidationProblem(Request request, IEnumerable<Bound> parameters)
    {
        var errors = new Dictionary<string, Text[]>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            var rules = parameter.Attributes.OfType<ValidationAttribute>().ToList();
            if (rules.Count == 0 || Values(request, parameter) is not { } values) continue;
            if (Broken(ValueType(parameter.Type), values.ToString(), rules, parameter.Name) is { } message) errors[parameter.Name] = [message];
        }
        return new ProblemWords(Invalid(), Problem.ValidationTitle, Problem.ValidationDetail, errors);
    }

    static HttpValidationProblemDetails Invalid() => new() { Status = StatusCodes.Status400BadRequest, Type = ProblemTypes.Validation };

    /// <summary>The message of the first rule <paramref name="text"/> breaks; a value that does not parse breaks the format rule.</summary>
    static Text? Broken(Type type, string text, List<ValidationAttribute> rules, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
            return rules.OfType<RequiredAttribute>().FirstOrDefault() is { } required ? ValidationMessages.For(name, required) : null;
        if (!Parses(type, text, out var value))
        {
            var format = rules.OfType<RegularExpressionAttribute>().FirstOrDefault() ?? rules.FirstOrDefault(r => r is not RequiredAttribute);
            return format is null ? NotValid : ValidationMessages.For(name, format);
        }
        return rules.FirstOrDefault(rule => !rule.IsValid(value)) is { } broken ? ValidationMessages.For(name, broken) : null;
    }

    // The parameter's name only: the CLR type means nothing to a caller. Names of [AsParameters] properties are C# names
    // (Limit, DueBefore); the caller sent the query parameter in camelCase (limit, dueBefore), as the document names it.
    static ProblemWords ParameterProblem(string name, Text message)
        => new(Invalid(), Problem.ValidationTitle, $"Parameter '{name}': {message}", new Dictionary<string, Text[]> { [name] = [message] });

    /// <summary>The values the request holds for a route, query or header parameter; null for a body, a service or the like.</summary>
    sealed record Request(HttpContext Http, RouteValueDictionary RouteValues);

    static StringValues? Values(Request request, Bound parameter)
    {
        var http = request.Http;
        var attributes = parameter.Attributes;
        var name = parameter.SourceName;
        if (attributes.OfType<IFromHeaderMetadata>().FirstOrDefault() is { } header) return http.Request.Headers[header.Name ?? name];
        if (attributes.OfType<IFromQueryMetadata>().FirstOrDefault() is { } query) return http.Request.Query[query.Name ?? name];
        if (attributes.OfType<IFromRouteMetadata>().FirstOrDefault() is { } route)
            return request.RouteValues.TryGetValue(route.Name ?? name, out var routed)
                ? new StringValues(routed?.ToString())
                : StringValues.Empty;
        if (attributes.Any(a => a is IFromBodyMetadata or IFromServiceMetadata or IFromFormMetadata)) return null;
        if (request.RouteValues.TryGetValue(name, out var value)) return new StringValues(value?.ToString());
        var type = ValueType(parameter.Type);
        return type == typeof(string) || TryParseMethod(type) is not null || type.IsEnum ? http.Request.Query[name] : (StringValues?)null;
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
        object?[] args = tryParse.GetParameters().Length == 3 ? [value, CultureInfo.InvariantCulture, null] : [value, null];
        var parses = (bool)tryParse.Invoke(null, args)!;
        parsed = args[^1];
        return parses;
    }

    /// <summary>
    /// <c>static bool TryParse(string, IFormatProvider, out T)</c> as <see cref="IParsable{TSelf}"/> has it, else
    /// <c>TryParse(string, out T)</c> (<see cref="bool"/> implements the first one explicitly).
    /// </summary>
    static MethodInfo? TryParseMethod(Type type)
        => type.GetMethod("TryParse", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(IFormatProvider), type.MakeByRefType()])
            ?? type.GetMethod("TryParse", BindingFlags.Public | BindingFlags.Static, [typeof(string), type.MakeByRefType()]);
}
