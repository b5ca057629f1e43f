using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>Short calls for the measure tests: every measure is created through the API under an issue of its own round.</summary>
public sealed class MeasureApi(RectifyApp app)
{
    readonly Seed _seed = new(app);

    public HttpClient Client { get; } = app.Client();

    public Seed Seed => _seed;

    /// <summary>A new round with one issue; returns the issue id and the round code.</summary>
    public async Task<(long IssueId, string Round)> IssueAsync()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        return (issue["id"]!.GetValue<long>(), round);
    }

    /// <summary>Another issue in an existing round.</summary>
    public async Task<long> IssueInAsync(string round)
        => (await _seed.IssueAsync(round))["id"]!.GetValue<long>();

    public static Dictionary<string, object?> CreateBody(long issueId, string? code = null, string dueDate = "2025-12-31",
        string? startDate = "2025-03-01", string owner = "HNMZT.SHSW", string title = "整治殡葬乱象")
        => new()
        {
            ["issueId"] = issueId, ["code"] = code ?? Seed.Unique("M"), ["title"] = title, ["ownerUnit"] = owner,
            ["startDate"] = startDate, ["dueDate"] = dueDate,
        };

    /// <summary>Creates a measure (asserting 201) and returns its id, ETag and body.</summary>
    public async Task<(long Id, string ETag, JsonNode Body)> CreateAsync(long issueId, string dueDate = "2025-12-31", string? startDate = "2025-03-01",
        string owner = "HNMZT.SHSW", string? code = null)
    {
        using var response = await Client.PostJsonAsync("/api/v1/measures", CreateBody(issueId, code, dueDate, startDate, owner));
        var body = await response.ShouldBeAsync(HttpStatusCode.Created);
        return (body["id"]!.GetValue<long>(), response.ETag(), body);
    }

    public async Task<(JsonNode Body, string ETag)> GetAsync(long id)
    {
        using var response = await Client.GetAsync($"/api/v1/measures/{id}", TestContext.Current.CancellationToken);
        var body = await response.ShouldBeAsync(HttpStatusCode.OK);
        return (body, response.ETag());
    }

    /// <summary>An update body that keeps the measure's fields and sets the state.</summary>
    public static Dictionary<string, object?> UpdateBody(JsonNode measure, string state, string? cancelReason = null)
        => new()
        {
            ["title"] = measure["title"]!.GetValue<string>(),
            ["description"] = measure["description"]?.GetValue<string>(),
            ["ownerUnit"] = measure["ownerUnit"]!.GetValue<string>(),
            ["startDate"] = measure["startDate"]?.GetValue<string>(),
            ["dueDate"] = measure["dueDate"]!.GetValue<string>(),
            ["state"] = state,
            ["cancelReason"] = cancelReason,
        };

    /// <summary>PUTs the measure into <paramref name="state"/> with its current ETag (asserting 200); cancelled gets a reason.</summary>
    public async Task<(JsonNode Body, string ETag)> MoveToAsync(long id, string state)
    {
        var (measure, etag) = await GetAsync(id);
        using var response = await Client.PutJsonAsync($"/api/v1/measures/{id}",
            UpdateBody(measure, state, state == "cancelled" ? "与其他措施合并" : null), etag);
        var body = await response.ShouldBeAsync(HttpStatusCode.OK);
        return (body, response.ETag());
    }

    /// <summary>Brings a new measure into <paramref name="state"/> along allowed transitions.</summary>
    public async Task<long> MeasureInStateAsync(long issueId, string state, string dueDate = "2025-12-31")
    {
        var (id, _, _) = await CreateAsync(issueId, dueDate, startDate: null);
        if (state != "planned") await MoveToAsync(id, state);
        return id;
    }

    public async Task<JsonNode> AddProgressAsync(long id, string reportedOn, decimal percent, string? note = null)
    {
        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn, percent, note });
        return await response.ShouldBeAsync(HttpStatusCode.Created);
    }

    /// <summary>Ids of the measures a list query returns, following every page.</summary>
    public async Task<List<long>> ListIdsAsync(string query)
    {
        var ids = new List<long>();
        string? cursor = null;
        do
        {
            var url = $"/api/v1/measures?{query}" + (cursor is null ? "" : $"&cursor={cursor}");
            var page = await Client.GetJsonAsync(url);
            ids.AddRange(page["items"]!.AsArray().Select(m => m!["id"]!.GetValue<long>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        return ids;
    }

    public Task<long> JournalRowsAsync(long measureId, string? action = null)
        => app.ScalarAsync<long>(
            "SELECT count(*) FROM journal WHERE entity = 'measure' AND entity_id = @id AND (@action::text IS NULL OR action = @action)",
            new { id = measureId.ToString(System.Globalization.CultureInfo.InvariantCulture), action });
}
