using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Issues;

namespace Rectify.Api.Tests.SignOffs;

/// <summary>What the sign-off tests share: an issue ready for sign-off, evidence, decisions, and the database's records of them.</summary>
public sealed class SignOffKit(RectifyApp app)
{
    public IssueKit Issues { get; } = new(app);

    public HttpClient Client => Issues.Client;

    public static string Text(JsonNode? node) => node!.GetValue<string>();

    /// <summary>An in_progress issue with one done measure and an evidence entry on it (not yet decided).</summary>
    public async Task<(long Issue, long Measure, long Evidence)> ReadyAsync(string? round = null)
    {
        round ??= await Issues.Seed.RoundAsync();
        var issue = IssueKit.Id(await Issues.Seed.IssueAsync(round, dueDate: "2025-12-31"));
        var measure = IssueKit.Id(await Issues.Seed.MeasureAsync(issue, dueDate: "2025-12-31"));
        var evidence = await EvidenceAsync(measure);
        await Issues.SetMeasureStateAsync(measure, "done");
        await Issues.MoveAsync(issue, "in_progress");
        return (issue, measure, evidence);
    }

    /// <summary>Records an evidence entry on the measure as <see cref="Client"/>; its id.</summary>
    public async Task<long> EvidenceAsync(long measure, HttpClient? by = null)
    {
        using var added = await (by ?? Client).PostJsonAsync($"/api/v1/measures/{measure}/evidence",
            new { title = Seed.Unique("海南省公墓管理办法"), documentNumber = "琼民发〔2025〕12号", issuedOn = "2025-04-30" });
        return IssueKit.Id(await added.ShouldBeAsync(HttpStatusCode.Created));
    }

    public async Task<HttpResponseMessage> DecideEvidenceAsync(long measure, long evidence, string decision = "accepted", HttpClient? by = null,
        string comment = "佐证充分。")
        => await (by ?? await Issues.ReviewerAsync()).PostJsonAsync($"/api/v1/measures/{measure}/evidence/{evidence}/decision",
            new { decision, comment });

    /// <summary>Submits the issue with the evidence entries given; the submission.</summary>
    public async Task<JsonNode> SubmitAsync(long issue, params long[] evidence)
    {
        using var submitted = await Issues.SubmitAsync(issue, evidence);
        return await submitted.ShouldBeAsync(HttpStatusCode.Created);
    }

    /// <summary>A client with the scopes read and write only: it does the work, it does not review.</summary>
    public async Task<HttpClient> WriterAsync() => app.ClientWith(await app.CreateClientAsync(Seed.Unique("writer"), ["read", "write"]));

    public Task<long> CountAsync(string sql, object args) => app.ScalarAsync<long>(sql, args);

    public Task<long> EventsAsync(string type, string path, long id)
        => app.ScalarAsync<long>($"SELECT count(*) FROM webhook_events WHERE type = @type AND (data #>> '{{{path}}}')::bigint = @id", new { type, id });

    public async Task<JsonArray> JournalAsync(string entity, long id)
        => (await Client.GetJsonAsync($"/api/v1/journal?entity={entity}&entityId={id}&limit=200"))["items"]!.AsArray();
}
