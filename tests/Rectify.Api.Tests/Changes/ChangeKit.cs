using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Changes;

/// <summary>A consumer of the change feed: follows it page by page from a cursor and keeps its own copy.</summary>
public sealed class ChangeKit(RectifyApp app)
{
    public HttpClient Client { get; } = app.Client();

    /// <summary>Every change after <paramref name="cursor"/> (from the start when null) visible now, and the cursor to go on from.</summary>
    public static async Task<(List<JsonNode> Items, string Cursor)> FollowAsync(HttpClient client, string? cursor, int limit = 7,
        string? types = null)
    {
        var items = new List<JsonNode>();
        while (true)
        {
            var query = $"/api/v1/changes?limit={limit}" + (cursor is null ? "" : $"&after={cursor}") + (types is null ? "" : $"&types={types}");
            var page = await client.GetJsonAsync(query);
            items.AddRange(page["items"]!.AsArray().Select(i => i!));
            cursor = page["nextCursor"]!.GetValue<string>();
            if (!page["hasMore"]!.GetValue<bool>()) return (items, cursor);
        }
    }

    public Task<(List<JsonNode> Items, string Cursor)> FollowAsync(string? cursor, int limit = 7, string? types = null)
        => FollowAsync(Client, cursor, limit, types);

    /// <summary>
    /// Follows the feed, polling as a consumer would, until what it has read satisfies <paramref name="caughtUp"/> (or
    /// 15 s pass, and the caller's assertions then say what is missing). The feed holds back entries newer than the
    /// oldest transaction in progress anywhere in the cluster, and transaction ids are cluster-wide: another test class's
    /// long push in its own database, or the service's background work, holds a fresh change back for a moment.
    /// </summary>
    public static async Task<(List<JsonNode> Items, string Cursor)> FollowUntilAsync(HttpClient client, string? cursor,
        Func<IReadOnlyList<JsonNode>, bool> caughtUp, int limit = 7, string? types = null)
    {
        var all = new List<JsonNode>();
        for (var polls = 0; ; polls++)
        {
            var (items, next) = await FollowAsync(client, cursor, limit, types);
            all.AddRange(items);
            cursor = next;
            if (caughtUp(all) || polls >= 150) return (all, cursor);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public Task<(List<JsonNode> Items, string Cursor)> FollowUntilAsync(string? cursor, Func<IReadOnlyList<JsonNode>, bool> caughtUp,
        int limit = 7, string? types = null)
        => FollowUntilAsync(Client, cursor, caughtUp, limit, types);

    /// <summary>Whether the items hold an entry of <paramref name="type"/> whose key has <paramref name="field"/> = <paramref name="value"/>.</summary>
    public static bool HasKey(IEnumerable<JsonNode> items, string type, string field, string value)
        => items.Any(i => i["type"]!.GetValue<string>() == type && i["key"]?[field]?.ToString() == value);

    /// <summary>A consumer's copy: (type, id) → the entity as last reported, removed when reported deleted or gone.</summary>
    public static Dictionary<(string Type, string Id), JsonNode> Replay(IEnumerable<JsonNode> items)
    {
        var copy = new Dictionary<(string, string), JsonNode>();
        foreach (var item in items)
        {
            var key = (item["type"]!.GetValue<string>(), item["id"]!.GetValue<string>());
            if (item["operation"]!.GetValue<string>() == "deleted" || item["entity"] is null) copy.Remove(key);
            else copy[key] = item["entity"]!;
        }
        return copy;
    }

    public static string Id(JsonNode item) => $"{item["type"]}:{item["id"]}";
}
