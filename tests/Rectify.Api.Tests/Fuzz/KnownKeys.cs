using System.Text.Json.Nodes;

namespace Rectify.Api.Tests.Fuzz;

/// <summary>
/// Ids and codes that exist (read from the demo data through every list operation of the document), so that
/// hostile values are mixed with real ones and reach the code behind the look-ups, not only the 404s.
/// </summary>
public sealed class KnownKeys
{
    readonly Dictionary<string, List<string>> _codes = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<long>> _ids = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _cursors = new(StringComparer.Ordinal);

    public Dictionary<string, string> IndicatorFrequency { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Codes(string collection) => _codes.TryGetValue(collection, out var codes) ? codes : [];
    public IReadOnlyList<long> Ids(string collection) => _ids.TryGetValue(collection, out var ids) ? ids : [];
    public IReadOnlyList<string> AllCodes => _codes.Values.SelectMany(c => c).Distinct().ToList();
    public IReadOnlyList<long> AllIds => _ids.Values.SelectMany(c => c).Distinct().ToList();

    /// <summary>A real cursor (the nextCursor of a one-item page) for a list path, when the list has two items or more.</summary>
    public string? CursorFor(string path) => _cursors.GetValueOrDefault(path);

    public IReadOnlyList<string> Units => Codes("units");
    public IReadOnlyList<string> Rounds => Codes("rounds");
    public IReadOnlyList<string> Indicators => Codes("indicators");
    public IReadOnlyList<long> Issues => Ids("issues");
    public IReadOnlyList<long> Measures => Ids("measures");

    public string Summary =>
        string.Join(", ", _codes.Select(c => $"{c.Key}: {c.Value.Count} codes").Concat(_ids.Select(i => $"{i.Key}: {i.Value.Count} ids")))
        + $"; {_cursors.Count} real cursors";

    public static async Task<KnownKeys> LoadAsync(HttpClient client, ApiDescription api, CancellationToken ct)
    {
        var keys = new KnownKeys();
        foreach (var list in api.Operations.Where(o => o.Method == "GET" && !o.Path.Contains('{') && o.Has("query", "limit")))
        {
            var collection = list.Path.Split('/', StringSplitOptions.RemoveEmptyEntries)[^1];
            foreach (var item in await ItemsAsync(client, list.Path + "?limit=200", ct))
            {
                if (item?["code"] is JsonValue code && code.TryGetValue<string>(out var text)) Add(keys._codes, collection, text);
                if (item?["id"] is JsonValue id && id.TryGetValue<long>(out var number)) Add(keys._ids, collection, number);
                if (collection == "indicators" && item?["code"] is { } c && item["frequency"] is { } f) keys.IndicatorFrequency[c.ToString()] =
                    f.ToString();
            }
            using var first = await client.GetAsync(list.Path + "?limit=1", ct);
            if (first.IsSuccessStatusCode && JsonNode.Parse(await first.Content.ReadAsStringAsync(ct))?["nextCursor"] is JsonValue next)
                keys._cursors[list.Path] = next.ToString();
        }
        return keys;
    }

    static async Task<JsonArray> ItemsAsync(HttpClient client, string url, CancellationToken ct)
    {
        using var response = await client.GetAsync(url, ct);
        if (!response.IsSuccessStatusCode) return [];
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))?["items"] as JsonArray ?? [];
    }

    static void Add<T>(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out var list)) map[key] = list = [];
        if (!list.Contains(value)) list.Add(value);
    }
}
