using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Issues;

/// <summary>
/// Issue calls the issue tests share: read with the ETag, change state through the API, walk an issue to a state
/// along the allowed path, count its journal rows.
/// </summary>
public sealed class IssueKit(RectifyApp app)
{
    static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    readonly HttpClient _client = app.Client();

    /// <summary>
    /// A second calling system with the scope review (and read, write): the one that decides on the requests for
    /// sign-off the suite's client makes, since a client cannot decide on its own request.
    /// </summary>
    readonly Lazy<Task<HttpClient>> _reviewer = new(async () =>
    {
        var key = await app.CreateClientAsync(Seed.Unique("reviewer"), [Scopes.Read, Scopes.Write, Scopes.Review]);
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    });

    public Seed Seed { get; } = new(app);

    public HttpClient Client => _client;

    /// <summary>The client that signs off (and sends back) what <see cref="Client"/> asked to have reviewed.</summary>
    public Task<HttpClient> ReviewerAsync() => _reviewer.Value;

    /// <summary>"Today" in Asia/Shanghai by the app's clock.</summary>
    public DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(app.Clock.GetUtcNow(), Shanghai).DateTime);

    public static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    public static long Id(JsonNode node) => node["id"]!.GetValue<long>();

    public static string State(JsonNode node) => node["state"]!.GetValue<string>();

    public static string[] Strings(JsonNode? array) => array!.AsArray().Select(s => s!.GetValue<string>()).ToArray();

    public static long[] Ids(JsonNode page) => page["items"]!.AsArray().Select(i => Id(i!)).ToArray();

    public async Task<(JsonNode Issue, string ETag)> ReadAsync(long id)
    {
        using var response = await _client.GetAsync($"/api/v1/issues/{id}", TestContext.Current.CancellationToken);
        var issue = await response.ShouldBeAsync(HttpStatusCode.OK);
        return (issue, response.ETag());
    }

    /// <summary>An update body that keeps the issue's fields as they are and asks for <paramref name="state"/>.</summary>
    public static object UpdateBody(JsonNode issue, string state, string? title = null, string? leadUnit = null, string? dueDate = null) => new
    {
        title = title ?? issue["title"]!.GetValue<string>(),
        description = issue["description"]?.GetValue<string>(),
        category = issue["category"]?.GetValue<string>(),
        leadUnit = leadUnit ?? issue["leadUnit"]?.GetValue<string>(),
        responsibleLeader = issue["responsibleLeader"]?.GetValue<string>(),
        dueDate = dueDate ?? issue["dueDate"]?.GetValue<string>(),
        state,
    };

    /// <summary>PUT the issue with its current fields, the new state and its current ETag.</summary>
    public async Task<HttpResponseMessage> PutStateAsync(long id, string state)
    {
        var (issue, etag) = await ReadAsync(id);
        return await _client.PutJsonAsync($"/api/v1/issues/{id}", UpdateBody(issue, state), etag);
    }

    public Task<HttpResponseMessage> ReviewAsync(long id, string? note = "整改措施已全部完成，申请销号。", string? ifMatch = null)
        => _client.PostJsonAsync($"/api/v1/issues/{id}/review", new { note }, ifMatch: ifMatch);

    /// <summary>Submits the issue for sign-off as <see cref="Client"/> with the evidence entries given; the answer.</summary>
    public Task<HttpResponseMessage> SubmitAsync(long id, params long[] evidence)
        => _client.PostJsonAsync($"/api/v1/issues/{id}/sign-offs",
            new { summary = "整改措施已全部完成，申请销号。", evidence = evidence.Select(e => new { evidenceId = e }).ToArray() });

    /// <summary>The id of the issue's latest sign-off submission (0 when it has none, which a decision answers with 404).</summary>
    public async Task<long> LatestSignOffAsync(long id)
    {
        using var response = await _client.GetAsync($"/api/v1/issues/{id}/sign-offs", TestContext.Current.CancellationToken);
        if (response.StatusCode != HttpStatusCode.OK) return 0;
        return (await response.ShouldBeAsync(HttpStatusCode.OK)).AsArray().Select(s => Id(s!)).DefaultIfEmpty(0).Last();
    }

    /// <summary>Decides on the issue's latest submission as <paramref name="reviewer"/> (by default <see cref="ReviewerAsync"/>).</summary>
    public async Task<HttpResponseMessage> DecideAsync(long id, string decision, string comment = "整改到位，同意销号。", string? watchUntil = null,
        HttpClient? reviewer = null, string? ifMatch = null)
        => await (reviewer ?? await ReviewerAsync()).PostJsonAsync($"/api/v1/issues/{id}/sign-offs/{await LatestSignOffAsync(id)}/decision",
            new { decision, comment, watchUntil }, ifMatch: ifMatch);

    /// <summary>Signs the issue off (销号): <see cref="ReviewerAsync"/> accepts its latest submission.</summary>
    public Task<HttpResponseMessage> CloseAsync(long id, string? watchUntil = null, string comment = "整改到位，同意销号。", string? ifMatch = null)
        => DecideAsync(id, "accept", comment, watchUntil, ifMatch: ifMatch);

    /// <summary>Adds an evidence entry to the measure as <see cref="Client"/> and has <see cref="ReviewerAsync"/> accept it; its id.</summary>
    public async Task<long> AcceptedEvidenceAsync(long measureId)
    {
        using var added = await _client.PostJsonAsync($"/api/v1/measures/{measureId}/evidence", new { title = "海南省公墓管理办法", documentNumber = "琼民发〔2025〕12号" });
        var evidence = Id(await added.ShouldBeAsync(HttpStatusCode.Created));
        using var accepted = await (await ReviewerAsync()).PostJsonAsync($"/api/v1/measures/{measureId}/evidence/{evidence}/decision",
            new { decision = "accepted", comment = "佐证充分。" });
        await accepted.ShouldBeAsync(HttpStatusCode.OK);
        return evidence;
    }

    /// <summary>Accepts the latest submission once each done measure of the issue has an accepted evidence entry (one added if needed).</summary>
    async Task<HttpResponseMessage> ProvenCloseAsync(long id)
    {
        var (issue, _) = await ReadAsync(id);
        foreach (var measure in issue["measures"]!.AsArray().Where(m => State(m!) == "done"))
        {
            var read = await _client.GetJsonAsync($"/api/v1/measures/{Id(measure!)}");
            if (!read["evidence"]!.AsArray().Any(e => e!["status"]!.GetValue<string>() == "accepted")) await AcceptedEvidenceAsync(Id(measure!));
        }
        return await CloseAsync(id);
    }

    /// <summary>
    /// Moves an issue one step (through PUT, a submission, or the review's decision out of pending_review: accept to
    /// closed, request_changes back to in_progress) and asserts it worked.
    /// </summary>
    public async Task<JsonNode> MoveAsync(long id, string state)
    {
        var from = State((await ReadAsync(id)).Issue);
        using var response = state switch
        {
            "pending_review" => await ReviewAsync(id),
            "closed" => await ProvenCloseAsync(id),
            "in_progress" when from == "pending_review" => await DecideAsync(id, "request_changes", "佐证材料不全，请补充。"),
            _ => await PutStateAsync(id, state),
        };
        await response.ShouldBeAsync(HttpStatusCode.OK);
        var (issue, _) = await ReadAsync(id);
        Assert.Equal(state, State(issue));
        return issue;
    }

    /// <summary>Creates an issue in <paramref name="round"/> and walks it to <paramref name="state"/> along allowed moves.</summary>
    public async Task<long> IssueInStateAsync(string round, string state, long? parentId = null, string? dueDate = "2025-12-31")
    {
        var id = Id(await Seed.IssueAsync(round, parentId: parentId, dueDate: dueDate));
        string[] path = state switch
        {
            "open" => [],
            "in_progress" => ["in_progress"],
            "long_term" => ["long_term"],
            "pending_review" => ["in_progress", "pending_review"],
            "closed" => ["in_progress", "pending_review", "closed"],
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not an issue state."),
        };
        foreach (var step in path) await MoveAsync(id, step);
        Assert.Equal(state, State((await ReadAsync(id)).Issue));
        return id;
    }

    /// <summary>Sets a measure's state with PUT, keeping its other fields (If-Match from a GET).</summary>
    public async Task<JsonNode> SetMeasureStateAsync(long measureId, string state, string? cancelReason = null)
    {
        using var read = await _client.GetAsync($"/api/v1/measures/{measureId}", TestContext.Current.CancellationToken);
        var measure = await read.ShouldBeAsync(HttpStatusCode.OK);
        using var put = await _client.PutJsonAsync($"/api/v1/measures/{measureId}", MeasureBody(measure, state, cancelReason), read.ETag());
        var updated = await put.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal(state, State(updated));
        return updated;
    }

    public static object MeasureBody(JsonNode measure, string state, string? cancelReason = null) => new
    {
        title = measure["title"]!.GetValue<string>(),
        description = measure["description"]?.GetValue<string>(),
        ownerUnit = measure["ownerUnit"]!.GetValue<string>(),
        startDate = measure["startDate"]?.GetValue<string>(),
        dueDate = measure["dueDate"]!.GetValue<string>(),
        state,
        cancelReason,
    };

    /// <summary>Reports progress on a measure (which moves a planned measure to in_progress).</summary>
    public async Task ReportProgressAsync(long measureId, decimal percent)
    {
        using var response = await _client.PostJsonAsync($"/api/v1/measures/{measureId}/progress",
            new { reportedOn = Iso(Today), percent, note = "按月报送进展" });
        await response.ShouldBeAsync(HttpStatusCode.Created);
    }

    public Task<long> JournalCountAsync(long issueId)
        => app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'issue' AND entity_id = @id",
            new { id = issueId.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>The issue's journal entries through the API, oldest first.</summary>
    public async Task<JsonArray> JournalAsync(long issueId)
        => (await _client.GetJsonAsync($"/api/v1/journal?entity=issue&entityId={issueId}&limit=200"))["items"]!.AsArray();
}
