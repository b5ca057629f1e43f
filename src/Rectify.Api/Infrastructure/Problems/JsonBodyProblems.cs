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
        using var body = await ReadAgainAsync(http, ct);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (keys, text) = Describe(json, body);
        var message = http.Say(text);
        foreach (var key in keys) errors[key] = [message];
        if (body.Document is { } document && body.Contract is { } contract)
        {
            var unknown = new List<string>();
            Collect(document.RootElement, contract, "$", body.Options, unknown);
            foreach (var field in unknown) errors.TryAdd(field, [http.Say(UnknownField)]);
        }
        return new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.MalformedRequest,
            Title = http.Say("The request body is not valid JSON for this operation"),
            Detail = http.Say(errors.Count != keys.Count ? Problem.ValidationDetail : keys.Count == 1 ? text : $"{text} See errors for the fields."),
        };
    }

    const string NotWellFormed = "The JSON is not well-formed or is cut off here.";
    const string WrongType = "The value has the wrong type or format for this field.";
    const string Duplicate = "The field appears more than once.";

    /// <summary>
    /// The fields the failure names, as the caller wrote them, and what is wrong with them: found from the exception's
    /// type and path and from the body read again against its contract, never from the exception's text.
    /// </summary>
    static (IReadOnlyList<string> Keys, Text Message) Describe(JsonException json, Replay body)
    {
        var at = FieldKey(json.Path);
        if (json is UnknownEnumNameException unknownName) return ([at], $"Use one of: {string.Join(", ", unknownName.Names)}.");
        if (json is InstantWithoutOffsetException) return ([at], at == "$" ? Instants.ValueMessage() : Instants.Message(at));
        if (body.Document is not { } document || body.Contract is not { } contract)
            // Not read again: a failure of the reader (an inner JsonException) is one of syntax; any other, of a value.
            return ([at], body.Readable || json.InnerException is JsonException ? NotWellFormed : WrongType);

        var (element, elementContract, parent, parentContract, name) = Locate(document.RootElement, contract, json.Path, body.Options);
        var comparison = body.Options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (name is not null && parent is { ValueKind: JsonValueKind.Object } container && parentContract is { Kind: JsonTypeInfoKind.Object } owner)
        {
            if (container.EnumerateObject().Count(f => string.Equals(f.Name, name, comparison)) > 1) return ([at], Duplicate);
            if (!owner.Properties.Any(p => string.Equals(p.Name, name, comparison))) return ([at], UnknownField);
        }
        if (element is { ValueKind: JsonValueKind.Object } value && elementContract is { Kind: JsonTypeInfoKind.Object } type)
        {
            var fields = value.EnumerateObject().Select(f => f.Name).ToList();
            if (fields.GroupBy(f => f, StringComparer.FromComparison(comparison)).Any(g => g.Count() > 1)) return ([at], Duplicate);
            if (fields.FirstOrDefault(f => !type.Properties.Any(p => string.Equals(p.Name, f, comparison))) is { } unmapped)
                return ([Join(at, unmapped)], UnknownField);
            var missing = type.Properties.Where(p => p.IsRequired && !fields.Contains(p.Name, StringComparer.FromComparison(comparison)))
                .Select(p => Join(at, p.Name)).Take(MaxNamedFields).ToList();
            if (missing.Count > 0) return (missing, "A required field is missing.");
        }
        return ([at], WrongType);
    }

    /// <summary>
    /// The element at <paramref name="path"/> and its contract, with its parent's and its name within the parent (null
    /// for an item).
    /// </summary>
    static (JsonElement? Element, JsonTypeInfo? Contract, JsonElement? Parent, JsonTypeInfo? ParentContract, string? Name) Locate(
        JsonElement root, JsonTypeInfo contract, string? path, JsonSerializerOptions options)
    {
        JsonElement? element = root, parent = null;
        JsonTypeInfo? type = contract, parentType = null;
        string? name = null;
        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var segment in Segments(path))
        {
            (parent, parentType) = (element, type);
            if (segment is int index)
            {
                name = null;
                element = element is { ValueKind: JsonValueKind.Array } array && index < array.GetArrayLength() ? array[index] : null;
                type = type?.ElementType is { } item ? options.GetTypeInfo(item) : null;
            }
            else
            {
                name = (string)segment;
                var field = element is { ValueKind: JsonValueKind.Object } obj
                    ? obj.EnumerateObject().FirstOrDefault(f => string.Equals(f.Name, name, comparison))
                    : default;
                element = field.Value.ValueKind == JsonValueKind.Undefined ? null : field.Value;
                type = type switch
                {
                    { Kind: JsonTypeInfoKind.Object } o => o.Properties.FirstOrDefault(p => string.Equals(p.Name, name, comparison)) is { } property
                        ? options.GetTypeInfo(property.PropertyType) : null,
                    { Kind: JsonTypeInfoKind.Dictionary, ElementType: { } value } => options.GetTypeInfo(value),
                    _ => null,
                };
            }
        }
        return (element, type, parent, parentType, name);
    }

    /// <summary>The names and indexes of a JSON path (<c>$.values[3]['odd name']</c>: values, 3, odd name).</summary>
    static List<object> Segments(string? path)
    {
        var segments = new List<object>();
        if (string.IsNullOrEmpty(path)) return segments;
        var i = path[0] == '$' ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                segments.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0) end = path.Length;
                segments.Add(path[(i + 2)..end]);
                i = Math.Min(end + 2, path.Length);
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0) end = path.Length;
                segments.Add(int.TryParse(path.AsSpan(i + 1, end - i - 1), out var index) ? index : -1);
                i = end + 1;
            }
            else
            {
                segments.Add(path[i..]);
                break;
            }
        }
        return segments;
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

    /// <summary>
    /// The body read again, when the endpoint binds a contract and the body was kept: <see cref="Replay.Document"/> is
    /// null when it is not well-formed JSON (<see cref="Replay.Readable"/> then says it could be read).
    /// </summary>
    sealed record Replay(JsonDocument? Document, JsonTypeInfo? Contract, JsonSerializerOptions Options, bool Readable) : IDisposable
    {
        public void Dispose() => Document?.Dispose();
    }

    static async Task<Replay> ReadAgainAsync(HttpContext http, CancellationToken ct)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        if (http.Items[ContractKey] is not Type type || !http.Request.Body.CanSeek) return new Replay(null, null, options, Readable: false);
        try
        {
            http.Request.Body.Position = 0;
            var document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions
            {
                MaxDepth = options.MaxDepth, AllowTrailingCommas = options.AllowTrailingCommas, CommentHandling = options.ReadCommentHandling,
            }, ct);
            return new Replay(document, options.GetTypeInfo(type), options, Readable: true);
        }
        catch (JsonException)
        {
            return new Replay(null, null, options, Readable: true);
        }
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
