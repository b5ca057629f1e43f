using System.Text.Json.Nodes;

namespace Rectify.Api.Tests.Fuzz;

/// <summary>One parameter of an operation, as the OpenAPI document describes it.</summary>
public sealed record ApiParameter(string Name, string In, JsonObject Schema, bool Required);

/// <summary>One operation of the live OpenAPI document: what the fuzzer aims at.</summary>
public sealed record ApiOperation(string Method, string Path, IReadOnlyList<ApiParameter> Parameters, IReadOnlyDictionary<string, JsonObject> Bodies)
{
    public string Name => $"{Method} {Path}";
    public bool TakesJson => Bodies.ContainsKey("application/json");
    public bool TakesCsv => Bodies.ContainsKey("text/csv");
    public bool HasBody => Bodies.Count > 0;
    public IEnumerable<ApiParameter> In(string location) => Parameters.Where(p => p.In == location);
    public bool Has(string location, string name) => Parameters.Any(p => p.In == location && p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
    public override string ToString() => Name;
}

/// <summary>
/// The operations of the OpenAPI document the service serves, read at test time so that an endpoint added later
/// is fuzzed without touching the test. Schemas are resolved through <c>$ref</c> on demand.
/// </summary>
public sealed class ApiDescription
{
    static readonly string[] Methods = ["get", "post", "put", "delete", "patch"];

    readonly JsonObject _schemas;

    ApiDescription(IReadOnlyList<ApiOperation> operations, JsonObject schemas)
    {
        Operations = operations;
        _schemas = schemas;
        MethodsByPath = operations.GroupBy(o => o.Path).ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Select(o => o.Method).ToHashSet());
    }

    public IReadOnlyList<ApiOperation> Operations { get; }

    public IReadOnlyDictionary<string, IReadOnlySet<string>> MethodsByPath { get; }

    public static ApiDescription Parse(JsonNode document)
    {
        var schemas = document["components"]?["schemas"]?.AsObject() ?? [];
        var operations = new List<ApiOperation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            var shared = item!["parameters"]?.AsArray() ?? [];
            foreach (var method in Methods)
            {
                if (item[method] is not JsonObject operation) continue;
                var parameters = shared.Concat(operation["parameters"]?.AsArray() ?? [])
                    .Select(p => new ApiParameter(p!["name"]!.GetValue<string>(), p["in"]!.GetValue<string>(),
                        p["schema"] as JsonObject ?? [], p["required"]?.GetValue<bool>() ?? false))
                    .ToList();
                var bodies = new Dictionary<string, JsonObject>(StringComparer.OrdinalIgnoreCase);
                foreach (var (contentType, media) in operation["requestBody"]?["content"]?.AsObject() ?? [])
                    bodies[contentType] = media?["schema"] as JsonObject ?? [];
                operations.Add(new ApiOperation(method.ToUpperInvariant(), path, parameters, bodies));
            }
        }
        return new ApiDescription(operations, schemas);
    }

    /// <summary>The schema itself, with <c>$ref</c> followed and a nullable <c>oneOf</c>/<c>anyOf</c>/<c>allOf</c> reduced to its non-null
    /// part.</summary>
    public JsonObject Resolve(JsonNode? schema)
    {
        for (var hops = 0; hops < 32 && schema is JsonObject s; hops++)
        {
            if (s["$ref"]?.GetValue<string>() is { } reference)
            {
                schema = _schemas[reference.Split('/')[^1]];
                continue;
            }
            var alternatives = (s["allOf"] ?? s["oneOf"] ?? s["anyOf"])?.AsArray();
            if (alternatives is { Count: > 0 } && s["type"] is null && s["properties"] is null)
            {
                schema = alternatives.FirstOrDefault(a => a?["type"]?.ToString() != "null") ?? alternatives[0];
                continue;
            }
            return s;
        }
        return [];
    }

    /// <summary>The JSON types a schema allows ("string", "integer", "null"…).</summary>
    public static IReadOnlyList<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonArray many => many.Select(t => t!.GetValue<string>()).ToList(),
        JsonValue one => [one.GetValue<string>()],
        _ => schema["properties"] is not null ? ["object"] : schema["enum"] is not null ? ["string"] : [],
    };

    public static string MainType(JsonObject schema) => Types(schema).FirstOrDefault(t => t != "null") ?? "string";

    public static bool Nullable(JsonObject schema) => Types(schema).Contains("null");

    public static string? Format(JsonObject schema) => schema["format"]?.GetValue<string>();

    public static IReadOnlyList<string> EnumValues(JsonObject schema)
        => schema["enum"]?.AsArray().Where(v => v is not null).Select(v => v!.ToString()).ToList() ?? [];

    public static IReadOnlySet<string> Required(JsonObject schema)
        => schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToHashSet() ?? [];

    public static IEnumerable<(string Name, JsonNode Schema)> Properties(JsonObject schema)
        => schema["properties"]?.AsObject().Select(p => (p.Key, p.Value!)) ?? [];
}
