using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Rectify.Api.Tests.OpenApi;

/// <summary>
/// What the OpenAPI document promises an operation answers, checked against what the service sent: the status is
/// documented for the operation, the media type for that status, and a JSON body is valid against its schema. Object
/// schemas are made closed (<c>unevaluatedProperties: false</c>) where the document leaves them open, so that a field
/// the document does not name is reported too: an integrator generating a client from the document would not see it.
/// </summary>
public sealed class DocumentedAnswers
{
    static readonly string[] Methods = ["get", "post", "put", "delete", "patch"];

    readonly JsonObject _paths;
    readonly string _definitions;
    readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    public DocumentedAnswers(JsonNode document)
    {
        _paths = document["paths"]!.AsObject();
        var definitions = (document["components"]?["schemas"]?.DeepClone() as JsonObject) ?? [];
        foreach (var (_, schema) in definitions) Close(schema);
        _definitions = Rebased(definitions.ToJsonString());
    }

    /// <summary>Every operation of the document, as "METHOD /path/{template}".</summary>
    public IEnumerable<string> Operations()
        => _paths.SelectMany(p => Methods.Where(m => p.Value?[m] is JsonObject).Select(m => $"{m.ToUpperInvariant()} {p.Key}"));

    /// <summary>
    /// The document's path that a request path falls on: the template whose segments match, the one with the most
    /// literal segments first (as routing chooses). Null for a path the document does not have.
    /// </summary>
    public string? Template(string requestPath)
    {
        // As the client sends it: dot segments resolved.
        var sent = new Uri(new Uri("http://rectify.test"), requestPath.Split('?', 2)[0]).AbsolutePath;
        // Routing ignores one trailing slash; an empty segment (indicators//) is no operation's path.
        var segments = (sent.EndsWith('/') && sent.Length > 1 ? sent[1..^1] : sent[1..]).Split('/');
        return _paths.Select(p => p.Key)
            .Select(template => (template, parts: template.Trim('/').Split('/')))
            .Where(t => t.parts.Length == segments.Length
                && t.parts.Zip(segments)
                    .All(p => IsParameter(p.First) ? p.Second.Length > 0 : p.First.Equals(p.Second, StringComparison.OrdinalIgnoreCase)))
            .OrderByDescending(t => t.parts.Count(part => !IsParameter(part)))
            .Select(t => t.template)
            .FirstOrDefault();

        static bool IsParameter(string part) => part.StartsWith('{') && part.EndsWith('}');
    }

    /// <summary>
    /// Every way the answer to a request departs from the document; empty when it keeps to it. A request on a path or
    /// method the document does not have is not judged here: its 404 or 405 is the point.
    /// </summary>
    public IReadOnlyList<string> Check(string method, string requestPath, int status, string? mediaType, ReadOnlySpan<byte> body,
        IEnumerable<string>? headers = null)
    {
        var headerProblems = headers is null ? [] : CheckHeaders(method, requestPath, status, headers);
        var bodyProblems = CheckBody(method, requestPath, status, mediaType, body);
        return [.. headerProblems, .. bodyProblems];
    }

    /// <summary>The headers an integrator acts on: present only where documented, and present where documented as required.</summary>
    IReadOnlyList<string> CheckHeaders(string method, string requestPath, int status, IEnumerable<string> headers)
    {
        if (Response(method, requestPath, status) is not { } response) return [];
        var documented = response["headers"]?.AsObject() ?? [];
        var sent = headers.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        foreach (var name in TrackedHeaders.Where(sent.Contains)
            .Where(n => !documented.Any(d => d.Key.Equals(n, StringComparison.OrdinalIgnoreCase))))
            problems.Add($"{status} carries {name}, which the document does not name for it");
        foreach (var (name, header) in documented)
        {
            if (header?["required"]?.GetValue<bool>() == true
                && !sent.Contains(name)) problems.Add($"{status} lacks the {name} header the document requires");
        }
        return problems;
    }

    /// <summary>The names of every header of an answer, its content's included, for <see cref="Check"/>.</summary>
    public static IReadOnlyCollection<string> HeaderNames(HttpResponseMessage response)
        => [.. response.Headers.Select(h => h.Key), .. response.Content.Headers.Select(h => h.Key)];

    static readonly string[] TrackedHeaders = ["ETag", "Location", "Retry-After", "WWW-Authenticate", "Idempotent-Replayed"];

    /// <summary>The operation a request falls on, with its documented responses; null when the document has none.</summary>
    (string Template, JsonObject Responses)? Find(string method, string requestPath)
        => Methods.Contains(method.ToLowerInvariant()) && Template(requestPath) is { } template
            && _paths[template]?[method.ToLowerInvariant()] is JsonObject operation
                ? (template, operation["responses"]?.AsObject() ?? [])
                : null;

    static JsonNode? Pick(JsonObject responses, int status)
        => responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] ?? responses[$"{status / 100}XX"] ?? responses["default"];

    JsonNode? Response(string method, string requestPath, int status) =>
        Find(method, requestPath) is { } found ? Pick(found.Responses, status) : null;

    IReadOnlyList<string> CheckBody(string method, string requestPath, int status, string? mediaType, ReadOnlySpan<byte> body)
    {
        if (Find(method, requestPath) is not var (pathTemplate, responses)) return [];
        if (Pick(responses, status) is not { } response)
            return [$"status {status} is not documented for {method} {pathTemplate} (documented: {string.Join(", ", responses.Select(r => r.Key))})"];

        var content = response["content"]?.AsObject();
        if (content is null || content.Count == 0)
            return body.Length == 0 ? [] : [$"{status} has a body ({mediaType}) but the document describes none"];
        if (mediaType is null) return body.Length == 0
            && status == 204 ? [] : [$"{status} has no Content-Type; documented: {string.Join(", ", content.Select(c => c.Key))}"];
        var media = content.FirstOrDefault(c => c.Key.Equals(mediaType, StringComparison.OrdinalIgnoreCase)).Value;
        if (media is null) return [$"{status} answered {mediaType}; documented: {string.Join(", ", content.Select(c => c.Key))}"];
        if (!mediaType.Contains("json", StringComparison.OrdinalIgnoreCase) || media["schema"] is not JsonObject schema) return [];

        JsonDocument parsed;
        try
        {
            parsed = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException)
        {
            return [$"{status} {mediaType} body is not JSON"];
        }
        using (parsed)
        {
            var results = SchemaFor(schema)
                .Evaluate(parsed.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            return results.IsValid ? [] : Failures(results).Select(f => $"{status} body {f}").Distinct().Take(10).ToList();
        }
    }

    /// <summary>
    /// Why an evaluation failed, without the noise of alternatives that did not match under a oneOf or anyOf that
    /// passed: the failing nodes with their errors, and failing nodes without errors of their own whose parts all
    /// passed (a oneOf matched twice).
    /// </summary>
    static IEnumerable<string> Failures(EvaluationResults results)
    {
        // A node is one schema applied at one place in the answer: items[0] and items[1] are apart under the same schema.
        var details = results.Details ?? [results];
        static string Node(EvaluationResults d) => $"{d.EvaluationPath}@{d.InstanceLocation}";
        static bool Under(EvaluationResults d, EvaluationResults ancestor)
            => d.EvaluationPath.ToString().StartsWith(ancestor.EvaluationPath + "/", StringComparison.Ordinal)
                && (d.InstanceLocation.ToString() == ancestor.InstanceLocation.ToString()
                    || d.InstanceLocation.ToString().StartsWith(ancestor.InstanceLocation + "/", StringComparison.Ordinal));
        var passed = details.Where(d => d.IsValid).ToList();
        var failing = details.Where(d => !d.IsValid && !passed.Any(p => Under(d, p))).ToList();
        foreach (var d in failing)
        {
            if (d.Errors is { Count: > 0 } errors)
            {
                foreach (var (keyword,
                    message) in errors) yield return $"at '{d.InstanceLocation}' ({keyword}, schema {d.EvaluationPath}): {message}";
            }
            else if (!failing.Any(other => other != d && Node(other) != Node(d) && Under(other, d)))
            {
                yield return $"at '{d.InstanceLocation}': not valid against schema {d.EvaluationPath} (a oneOf matching more than one alternative?)";
            }
        }
    }

    JsonSchema SchemaFor(JsonObject schema)
    {
        var text = schema.ToJsonString();
        return _schemas.GetOrAdd(text, _ =>
        {
            // One self-contained schema per response schema: the document's components as $defs beside it.
            var node = JsonNode.Parse(Rebased(text))!.AsObject();
            Close(node);
            node["$schema"] = "https://json-schema.org/draft/2020-12/schema";
            node["$defs"] = JsonNode.Parse(_definitions);
            var id = new Uri($"https://rectify.test/answers/{Guid.NewGuid():N}"); // schemas register globally: never twice under one id
            return JsonSchema.FromText(node.ToJsonString(), new BuildOptions(), id);
        });
    }

    static string Rebased(string json) => json.Replace("\"#/components/schemas/", "\"#/$defs/", StringComparison.Ordinal);

    /// <summary>
    /// Closes every object schema that lists properties and says nothing about others, and drops the formats that
    /// are OpenAPI's own (int32, decimal…), which JSON Schema does not know, so that the ones it knows (date,
    /// date-time, uuid, uri) are asserted. Values (examples, defaults, enums) are left as they are.
    /// </summary>
    static void Close(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["properties"] is JsonObject && o["additionalProperties"] is null && o["unevaluatedProperties"] is null)
                    o["unevaluatedProperties"] = false;
                if (o["format"] is JsonValue format && !JsonSchemaFormats.Contains(format.ToString())) o.Remove("format");
                foreach (var (key, child) in o.ToList())
                {
                    if (key is not ("example" or "examples" or "default" or "enum" or "const")) Close(child);
                }
                break;
            case JsonArray a:
                foreach (var child in a) Close(child);
                break;
        }
    }

    static readonly HashSet<string> JsonSchemaFormats = ["date", "date-time", "uuid", "uri"];
}
