using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Conventions;

/// <summary>
/// Refused input is named as the caller wrote it: every unknown field of a body (not only the first), wrongly typed
/// fields without a JSON-path prefix, validation messages a person can read, and instants without an offset.
/// </summary>
public sealed class InputErrorTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();
    readonly Seed _seed = new(app);

    static JsonObject Errors(JsonNode problem) => problem["errors"]!.AsObject();

    static string[] Messages(JsonNode problem, string field)
        => Errors(problem)[field]?.AsArray().Select(m => m!.GetValue<string>()).ToArray()
            ?? throw new Xunit.Sdk.XunitException($"No error for '{field}' in {problem.ToJsonString()}");

    [Fact]
    public async Task Every_unknown_field_of_a_body_is_named_as_the_caller_wrote_it()
    {
        using var response = await _client.SendRawAsync(HttpMethod.Put, "/api/v1/rounds/HN-X/snapshots/2025-10", """
            {"narrative":"十月","unknownField":1,"Progres":[],
             "progress":[{"measureId":1,"percent":10},{"measureId":2,"percent":20,"recordedBy":"me"}]}
            """);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal(["Progres", "progress[1].recordedBy", "unknownField"], Errors(problem).Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Contains("Unknown field", Messages(problem, "progress[1].recordedBy")[0]);
    }

    [Fact]
    public async Task A_wrongly_typed_field_is_named_without_a_json_path_and_unknown_fields_beside_it_too()
    {
        using var response = await _client.SendRawAsync(HttpMethod.Put, "/api/v1/rounds/HN-X/snapshots/2025-10", """
            {"progress":[{"measureId":1,"percent":"ten"}],"extra":true}
            """);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal(["extra", "progress[0].percent"], Errors(problem).Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Missing_required_fields_are_named()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var measure = await _seed.MeasureAsync(issue["id"]!.GetValue<long>());
        using var response = await _client.SendRawAsync(
            HttpMethod.Post, $"/api/v1/measures/{measure["id"]}/evidence", """{"documentNumber":"琼府〔2025〕12号"}""");
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal(["A required field is missing."], Messages(problem, "title"));
    }

    [Fact]
    public async Task Validation_messages_name_the_field_as_the_caller_does_and_read_as_sentences()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var measure = await _seed.MeasureAsync(issue["id"]!.GetValue<long>());
        using var evidence = await _client.SendRawAsync(HttpMethod.Post, $"/api/v1/measures/{measure["id"]}/evidence",
            $$"""{"title":"","documentNumber":"{{new string('号', 201)}}","url":"not a link"}""");
        var problem = await evidence.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Equal(["title must not be empty and at most 500 characters long."], Messages(problem, "title"));
        Assert.Equal(["documentNumber must be at most 200 characters long."], Messages(problem, "documentNumber"));
        Assert.Equal(["url must be an absolute http or https URL."], Messages(problem, "url"));

        using var create = await _client.PostJsonAsync("/api/v1/measures", new
        {
            issueId = 0, code = "1.1", title = "整改", ownerUnit = "HNMZT", dueDate = "2025-12-31",
        });
        problem = await create.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Equal(["issueId must be a whole number of at least 1."], Messages(problem, "issueId"));

        using var client = await _client.PostJsonAsync("/api/v1/clients", new { name = Seed.Unique("no-scopes"), scopes = Array.Empty<string>() });
        problem = await client.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Equal(["scopes must not be empty."], Messages(problem, "scopes"));
    }

    [Fact]
    public async Task A_validation_message_never_shows_a_CLR_name_or_a_floating_point_bound()
    {
        using var response = await _client.PutJsonAsync("/api/v1/rounds/HN-X/snapshots/2025-10",
            new { progress = new object[] { new { measureId = 0, percent = 101 } } }, ifMatch: null);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Equal(["progress[0].measureId must be a whole number of at least 1."], Messages(problem, "progress[0].measureId"));
        Assert.Equal(["progress[0].percent must be between 0 and 100."], Messages(problem, "progress[0].percent"));
        Assert.DoesNotContain("E+", problem.ToJsonString());
        Assert.DoesNotContain("The field", problem.ToJsonString());
    }

    async Task<long> ClientIdAsync()
    {
        using var created = await _client.PostJsonAsync("/api/v1/clients", new { name = Seed.Unique("instants"), scopes = new[] { "read" } });
        return (await created.ShouldBeAsync(HttpStatusCode.Created))["id"]!.GetValue<long>();
    }

    [Theory]
    [InlineData("2030-01-01")]
    [InlineData("2030-01-01T00:00:00")]
    [InlineData("2030-01-01T00:00:00.000")]
    [InlineData("2030-01-01 00:00:00Z")]
    [InlineData("01/01/2030 00:00:00 +00:00")]
    public async Task An_instant_without_an_offset_is_refused_naming_the_field(string expiresAt)
    {
        var id = await ClientIdAsync();
        using var response = await _client.PostJsonAsync($"/api/v1/clients/{id}/keys", new { expiresAt });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal(["expiresAt must be an ISO 8601 instant with an offset, e.g. 2030-01-01T00:00:00Z."], Messages(problem, "expiresAt"));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM api_keys WHERE client_id = @id", new { id }));
    }

    [Fact]
    public async Task An_instant_with_Z_or_with_an_offset_is_stored_and_journaled_as_the_same_UTC_instant()
    {
        var id = await ClientIdAsync();
        foreach (var expiresAt in new[] { "2030-01-01T00:00:00Z", "2030-01-01T08:00:00+08:00", "2029-12-31T19:00:00.000-05:00" })
        {
            using var response = await _client.PostJsonAsync($"/api/v1/clients/{id}/keys", new { expiresAt });
            var issued = await response.ShouldBeAsync(HttpStatusCode.Created);
            Assert.Equal("2030-01-01T00:00:00Z", issued["expiresAt"]!.GetValue<string>());
        }
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(DISTINCT expires_at) FROM api_keys WHERE client_id = @id", new { id }));
        Assert.Equal(new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            (await app.ScalarAsync<DateTime>("SELECT min(expires_at) FROM api_keys WHERE client_id = @id", new { id })).ToUniversalTime());
        var journal = await _client.GetJsonAsync($"/api/v1/journal?entityId={id}&limit=200");
        var issuedKeys = journal["items"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == "issue-key").ToList();
        Assert.Equal(3, issuedKeys.Count);
        Assert.All(issuedKeys, e => Assert.Equal("2030-01-01T00:00:00Z", e!["after"]!["expiresAt"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("from", "2025-01-01")]
    [InlineData("to", "2025-01-01T00:00:00")]
    [InlineData("from", "yesterday")]
    public async Task A_journal_bound_without_an_offset_is_refused_naming_the_parameter(string parameter, string value)
    {
        using var response =
            await _client.GetAsync($"/api/v1/journal?{parameter}={Uri.EscapeDataString(value)}", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Equal([$"{parameter} must be an ISO 8601 instant with an offset, e.g. 2030-01-01T00:00:00Z."], Messages(problem, parameter));
    }

    [Fact]
    public async Task Journal_bounds_with_Z_or_an_offset_select_the_same_changes()
    {
        var id = await ClientIdAsync();
        var occurredAt = DateTime.SpecifyKind(
            await app.ScalarAsync<DateTime>("SELECT occurred_at FROM journal WHERE entity = 'client' AND entity_id = @id",
                new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            DateTimeKind.Utc).ToUniversalTime();
        var from = new DateTimeOffset(occurredAt.AddSeconds(-1));
        var to = new DateTimeOffset(occurredAt.AddSeconds(1));
        async Task<int> CountAsync(TimeSpan offset)
        {
            string Text(DateTimeOffset at) =>
                Uri.EscapeDataString(at.ToOffset(offset)
                .ToString(offset == TimeSpan.Zero ? "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fffffffzzz",
                System.Globalization.CultureInfo.InvariantCulture));
            var page = await _client.GetJsonAsync($"/api/v1/journal?entityId={id}&from={Text(from)}&to={Text(to)}");
            return page["items"]!.AsArray().Count;
        }
        Assert.Equal(1, await CountAsync(TimeSpan.Zero));
        Assert.Equal(1, await CountAsync(TimeSpan.FromHours(8)));
        Assert.Equal(1, await CountAsync(TimeSpan.FromHours(-5)));
    }
}
