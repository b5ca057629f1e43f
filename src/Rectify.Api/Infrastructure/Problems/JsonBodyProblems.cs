using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using ProblemDetails = Microsoft.AspNetCore.Mvc.ProblemDetails;
using Microsoft.Extensions.Options;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Infrastructure.Problems;

/// <summary>
/// A JSON body that does not read into its contract. System.Text.Json stops at the first failure and names it by JSON
/// path (<c>$.progress[0].recordedBy</c>); the problem names fields as the caller wrote them (<c>progress[0].recordedBy</c>)
/// and lists every unknown field of the body, not only the first: the body (kept readable for this by
/// <see cref="UseReplayableJsonBodies"/>, within the request-size limit) is read again against the contract.
/// </summary>
public static class JsonBodyProblems
{
    public const string UnknownField = "Unknown field: it is not part of this request (it may be set by the server only).";
    const int MaxNamedFields = 100;

    static readonly ConcurrentDictionary<Endpoint, Type?> BodyTypes = new();
    static readonly object ContractKey = new();

    /// <summary>
    /// Keeps the body of an endpoint that binds a JSON contract readable a second time, so that a refusal can name every
    /// unknown field. Bodies the handler reads itself (the push) are left alone.
    /// </summary>
    public static WebApplication UseReplayableJsonBodies(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            // The exception handler clears the endpoint before it runs: the contract is kept with the request.
            if (http.GetEndpoint() is { } endpoint && BodyType(endpoint) is { } contract && http.Request.ContentLength != 0)
            {
                http.Request.EnableBuffering();
                http.Items[ContractKey] = contract;
            }
            return next(http);
        });
        return app;
    }

    /// <summary>The contract the endpoint binds from its JSON body, if it binds one.</summary>
    static Type? BodyType(Endpoint endpoint) => BodyTypes.GetOrAdd(endpoint, static e =>
        e.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is { } type
        && e.Metadata.GetMetadata<MethodInfo>()?.GetParameters().Any(p => p.ParameterType == type) == true ? type : null);

    /// <summary>The failure of <paramref name="exception"/> as a JSON body failure, if it is one.</summary>
    public static JsonException? Of(Exception exception) => exception switch
    {
        JsonException json => json,
        BadHttpRequestException { InnerException: JsonException json } => json,
        _ => null,
    };

    public static async Task<ProblemDetails> DescribeAsync(HttpContext http, JsonException json, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (keys, message) = Describe(json);
        foreach (var key in keys) errors[key] = [message];
        if (!IsSyntaxError(json))
        {
            foreach (var unknown in await UnknownFieldsAsync(http, ct))
                errors.TryAdd(unknown, [UnknownField]);
        }
        return new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.MalformedRequest,
            Title = "The request body is not valid JSON for this operation",
            Detail = errors.Count == keys.Count ? (keys.Count == 1 ? message : $"{message[..^1]}: see errors for the fields.") : Problem.ValidationDetail,
        };
    }

    static bool IsSyntaxError(JsonException json) => json.InnerException is null && json.GetType() == typeof(JsonException)
        && !json.Message.Contains("could not be", StringComparison.Ordinal) && !json.Message.Contains("missing required", StringComparison.Ordinal)
        && !json.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase);

    /// <summary>The fields the failure names, as the caller wrote them, and what is wrong with them.</summary>
    static (IReadOnlyList<string> Keys, string Message) Describe(JsonException json)
    {
        var at = FieldKey(json.Path);
        if (json is UnknownEnumNameException unknownName) return ([at], $"Use one of: {string.Join(", ", unknownName.Names)}.");
        if (json is InstantWithoutOffsetException) return ([at], Instants.Message(at == "$" ? "The value" : at));
        var message = json.Message;
        if (Quoted(message, "The JSON property '") is { } unmapped)
            // The path of an unmapped member is the object's, or already ends with the member.
            return ([at.EndsWith(unmapped, StringComparison.Ordinal) ? at : Join(at, unmapped)], UnknownField);
        if (message.Contains("missing required properties", StringComparison.Ordinal))
        {
            var names = RequiredNames(message);
            return (names.Count == 0 ? [at] : [.. names.Select(name => Join(at, name))], "A required field is missing.");
        }
        return ([at], message.Contains("could not be converted", StringComparison.Ordinal)
            ? "The value has the wrong type or format for this field."
            : message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase)
                ? "The field appears more than once."
                : "The JSON is not well-formed or is cut off here.");
    }

    static string? Quoted(string message, string marker)
    {
        var start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0) return null;
        start += marker.Length;
        var end = message.IndexOf('\'', start);
        return end > start ? message[start..end] : null;
    }

    // "… was missing required properties including: 'title', 'issuedOn'."
    static List<string> RequiredNames(string message)
    {
        var names = new List<string>();
        var start = message.IndexOf("including:", StringComparison.Ordinal);
        if (start < 0) return names;
        var rest = message[start..];
        for (var open = rest.IndexOf('\''); open >= 0 && names.Count < MaxNamedFields; open = rest.IndexOf('\'', open + 1))
        {
            var close = rest.IndexOf('\'', open + 1);
            if (close < 0) break;
            names.Add(rest[(open + 1)..close]);
            open = close;
        }
        return names;
    }

    /// <summary>
    /// A JSON path (<c>$.values[3].unit</c>, <c>$['odd name']</c>) as the caller names the field: <c>values[3].unit</c>.
    /// The body as a whole stays <c>$</c>.
    /// </summary>
    public static string FieldKey(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return "$";
        var key = new StringBuilder();
        var i = path[0] == '$' ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                AppendName(key, path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0) end = path.Length;
                AppendName(key, path[(i + 2)..end]);
                i = Math.Min(end + 2, path.Length);
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0) end = path.Length - 1;
                key.Append(path, i, end - i + 1);
                i = end + 1;
            }
            else
            {
                AppendName(key, path[i..]);
                break;
            }
        }
        return key.Length == 0 ? "$" : key.ToString();

        static void AppendName(StringBuilder key, string name)
        {
            if (key.Length > 0) key.Append('.');
            key.Append(name);
        }
    }

    static string Join(string at, string name) => at == "$" ? name : at + "." + name;

    /// <summary>Every field of the body that its contract does not have, as the caller wrote it; none when it cannot be read again.</summary>
    static async Task<IReadOnlyList<string>> UnknownFieldsAsync(HttpContext http, CancellationToken ct)
    {
        var unknown = new List<string>();
        if (http.Items[ContractKey] is not Type type || !http.Request.Body.CanSeek) return unknown;
        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            http.Request.Body.Position = 0;
            using var body = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = options.MaxDepth }, ct);
            Collect(body.RootElement, options.GetTypeInfo(type), "$", options, unknown);
        }
        catch (JsonException)
        {
            // Not well-formed after all: the first failure is all there is to say.
        }
        return unknown;
    }

    static void Collect(JsonElement element, JsonTypeInfo contract, string at, JsonSerializerOptions options, List<string> unknown)
    {
        switch (contract.Kind)
        {
            case JsonTypeInfoKind.Object when element.ValueKind == JsonValueKind.Object:
                var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                foreach (var field in element.EnumerateObject())
                {
                    if (unknown.Count >= MaxNamedFields) return;
                    var property = contract.Properties.FirstOrDefault(p => string.Equals(p.Name, field.Name, comparison));
                    if (property is null) unknown.Add(Join(at, field.Name));
                    else Collect(field.Value, options.GetTypeInfo(property.PropertyType), Join(at, field.Name), options, unknown);
                }
                break;
            case JsonTypeInfoKind.Enumerable when element.ValueKind == JsonValueKind.Array && contract.ElementType is { } itemType:
                var items = options.GetTypeInfo(itemType);
                var index = 0;
                foreach (var item in element.EnumerateArray()) Collect(item, items, $"{(at == "$" ? "" : at)}[{index++}]", options, unknown);
                break;
            case JsonTypeInfoKind.Dictionary when element.ValueKind == JsonValueKind.Object && contract.ElementType is { } valueType:
                var values = options.GetTypeInfo(valueType);
                foreach (var entry in element.EnumerateObject()) Collect(entry.Value, values, Join(at, entry.Name), options, unknown);
                break;
        }
    }
}
