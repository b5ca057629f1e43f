using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>POST /api/v1/measures/{id}/evidence: documents and outputs that prove a measure.</summary>
public sealed class MeasureEvidenceTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    Task<long> EvidenceRowsAsync(long id) => app.ScalarAsync<long>("SELECT count(*) FROM measure_evidence WHERE measure_id = @id", new { id });

    [Fact]
    public async Task Evidence_is_created_and_its_chinese_text_round_trips_exactly()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        const string title = "海南省公墓管理办法";
        const string number = "琼府〔2025〕12号";
        const string url = "https://www.hainan.gov.cn/hainan/szfwj/202506/t20250630_公墓.html?来源=民政厅&a=1";

        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title, documentNumber = number, issuedOn = "2025-06-30", url });
        var evidence = await response.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/v1/measures/{id}", response.Headers.Location?.ToString());
        Assert.Equal(id, evidence["measureId"]!.GetValue<long>());
        Assert.Equal(title, evidence["title"]!.GetValue<string>());
        Assert.Equal(number, evidence["documentNumber"]!.GetValue<string>());
        Assert.Equal("2025-06-30", evidence["issuedOn"]!.GetValue<string>());
        Assert.Equal(url, evidence["url"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, evidence["recordedBy"]!.GetValue<string>());

        // The raw answer carries the Chinese characters themselves, not \u escapes.
        using var raw = await Client.GetAsync($"/api/v1/measures/{id}", TestContext.Current.CancellationToken);
        var text = await raw.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains($"\"title\":\"{title}\"", text);
        Assert.Contains(number, text);

        var (measure, _) = await _api.GetAsync(id);
        var listed = Assert.Single(measure["evidence"]!.AsArray());
        Assert.True(JsonNode.DeepEquals(evidence, listed), $"{evidence.ToJsonString()} <> {listed!.ToJsonString()}");
        Assert.Equal(title, await app.ScalarAsync<string>("SELECT title FROM measure_evidence WHERE measure_id = @id", new { id }));
        Assert.Equal(number, await app.ScalarAsync<string>("SELECT document_number FROM measure_evidence WHERE measure_id = @id", new { id }));
    }

    [Fact]
    public async Task Evidence_needs_only_a_title()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title = "“监督一张网”平台上线运行" });
        var evidence = await response.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal("“监督一张网”平台上线运行", evidence["title"]!.GetValue<string>());
        Assert.Null(evidence["documentNumber"]);
        Assert.Null(evidence["issuedOn"]);
        Assert.Null(evidence["url"]);
    }

    [Fact]
    public async Task A_duplicate_title_on_the_same_measure_is_a_conflict_but_another_measure_may_use_it()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        var (other, _, _) = await _api.CreateAsync(issueId);
        var body = new { title = "海南省公墓管理办法", documentNumber = "琼府〔2025〕12号" };

        using var first = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", body);
        await first.ShouldBeAsync(HttpStatusCode.Created);
        var journal = await _api.JournalRowsAsync(id);
        var etag = (await _api.GetAsync(id)).ETag;

        using var duplicate = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", body with { documentNumber = "琼府〔2025〕13号" });
        var problem = await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Contains("same title", problem["detail"]!.GetValue<string>());
        Assert.Equal(1, await EvidenceRowsAsync(id));
        Assert.Equal(journal, await _api.JournalRowsAsync(id));
        Assert.Equal(etag, (await _api.GetAsync(id)).ETag);

        using var elsewhere = await Client.PostJsonAsync($"/api/v1/measures/{other}/evidence", body);
        await elsewhere.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("www.hainan.gov.cn/gmgl.html")]
    [InlineData("javascript:alert(1)")]
    [InlineData("/relative/path")]
    public async Task A_url_that_is_not_an_absolute_link_is_a_bad_request_naming_url(string url)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title = "海南省公墓管理办法", url });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.True(problem["errors"]!["url"] is not null || problem["errors"]!["Url"] is not null, problem.ToJsonString());
        Assert.Equal(0, await EvidenceRowsAsync(id));
    }

    [Theory]
    [InlineData("""{"title":""}""", "title", "validation")]
    [InlineData("""{"documentNumber":"琼府〔2025〕12号"}""", "title", "malformed-request")]
    [InlineData("""{"title":"海南省公墓管理办法","issuedOn":"2025-02-30"}""", "issuedOn", "malformed-request")]
    [InlineData("""{"title":"海南省公墓管理办法","sha256":"abc"}""", "sha256", "malformed-request")]
    public async Task A_malformed_evidence_body_is_a_bad_request(string json, string field, string type)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        using var response = await Client.SendRawAsync(HttpMethod.Post, $"/api/v1/measures/{id}/evidence", json);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, type);
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.Any(e => string.Equals(e.Key, field, StringComparison.OrdinalIgnoreCase)), problem.ToJsonString());
        Assert.Equal(0, await EvidenceRowsAsync(id));
    }

    [Fact]
    public async Task Evidence_on_an_unknown_measure_is_not_found()
    {
        using var response = await Client.PostJsonAsync("/api/v1/measures/987654321/evidence", new { title = "海南省公墓管理办法" });
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Adding_evidence_changes_the_measure_etag()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, _) = await _api.CreateAsync(issueId);
        using var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title = "海南省公墓管理办法" });
        await response.ShouldBeAsync(HttpStatusCode.Created);

        // The representation of the measure now lists the evidence: a strong ETag must not stay the same.
        var (measure, after) = await _api.GetAsync(id);
        Assert.Single(measure["evidence"]!.AsArray());
        Assert.NotEqual(etag, after);

        // A client that read the measure before the evidence was added is told it changed.
        using var stale = await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "in_progress"), etag);
        await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
    }

    [Fact]
    public async Task An_evidence_replay_with_the_same_idempotency_key_writes_one_row()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        var key = Guid.NewGuid().ToString();
        var body = new { title = "海南省殡葬服务收费目录清单", issuedOn = "2025-05-10" };
        using var first = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", body, idempotencyKey: key);
        var created = await first.ShouldBeAsync(HttpStatusCode.Created);
        using var second = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", body, idempotencyKey: key);
        var replayed = await second.ShouldBeAsync(HttpStatusCode.Created);
        Assert.True(JsonNode.DeepEquals(created, replayed), $"{created.ToJsonString()} <> {replayed.ToJsonString()}");
        // Evidence is not a versioned resource of its own: neither answer names a version.
        Assert.False(first.Headers.Contains("ETag"));
        Assert.False(second.Headers.Contains("ETag"));
        Assert.Equal(1, await EvidenceRowsAsync(id));
        Assert.Equal(1, await _api.JournalRowsAsync(id, "evidence"));
    }
}
