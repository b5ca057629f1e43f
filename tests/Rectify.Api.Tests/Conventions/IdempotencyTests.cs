using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Conventions;

/// <summary>
/// Creates honour an Idempotency-Key: a replay returns the first answer and creates nothing; the key with another
/// body or on another operation is a 422; a create that fails leaves the key unused.
/// </summary>
public sealed class IdempotencyTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();
    readonly Seed _seed = new(app);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static object RoundBody(string code, string name = "八届省委第六轮巡视") => new
    {
        code, name, inspectedUnit = "HNMZT", inspectionBody = "八届省委第六轮巡视第六巡视组",
        inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31", feedbackDate = "2025-02-28", state = "rectifying",
    };

    Task<long> KeysAsync(string key) => app.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys WHERE key = @key", new { key });

    [Fact]
    public async Task Replaying_a_round_create_returns_the_first_answer_and_creates_one_row()
    {
        await _seed.UnitsAsync();
        var code = Seed.Unique("R");
        var key = Guid.NewGuid().ToString();

        using var first = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code), key);
        var firstBody = await first.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        app.Clock.Advance(TimeSpan.FromMinutes(5)); // a replay later still answers with the first createdAt
        using var replay = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code), key);
        var replayBody = await replay.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(["true"], replay.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal($"/api/v1/rounds/{code}", first.Headers.Location?.ToString());
        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Equal(first.ETag(), replay.ETag()); // the retrying caller can go on to update with If-Match
        Assert.Equal("application/json", replay.Content.Headers.ContentType?.MediaType);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(firstBody), JsonNode.Parse(replayBody)), $"first: {firstBody}\nreplay: {replayBody}");
        Assert.Equal(firstBody, replayBody);

        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM rounds WHERE code = @code", new { code }));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'round' AND entity_id = @code", new { code }));
        Assert.Equal(1L, await KeysAsync(key));
    }

    [Fact]
    public async Task Replaying_an_issue_create_returns_the_same_issue()
    {
        var round = await _seed.RoundAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { round, code = "1", title = "殡葬改革推行不力", category = "殡葬管理", leadUnit = "HNMZT.SHSW", dueDate = "2025-12-31" };

        using var first = await _client.PostJsonAsync("/api/v1/issues", body, key);
        var created = await first.ShouldBeAsync(HttpStatusCode.Created);
        using var replay = await _client.PostJsonAsync("/api/v1/issues", body, key);
        var replayed = await replay.ShouldBeAsync(HttpStatusCode.Created);

        Assert.Equal(["true"], replay.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal($"/api/v1/issues/{created["id"]}", first.Headers.Location?.ToString());
        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Equal(first.ETag(), replay.ETag()); // the retrying caller can go on to update with If-Match
        Assert.True(JsonNode.DeepEquals(created, replayed), $"first: {created.ToJsonString()}\nreplay: {replayed.ToJsonString()}");
        Assert.Equal(1L, await app.ScalarAsync<long>(
            "SELECT count(*) FROM issues i JOIN rounds r ON r.id = i.round_id WHERE r.code = @round AND i.code = '1'", new { round }));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_refused()
    {
        await _seed.UnitsAsync();
        var code = Seed.Unique("R");
        var key = Guid.NewGuid().ToString();
        using var first = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code), key);
        await first.ShouldBeAsync(HttpStatusCode.Created);

        using var changed = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code, name: "另一个名字"), key);
        await changed.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.False(changed.Headers.Contains("Idempotent-Replayed"));

        using var otherCode = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(Seed.Unique("R")), key);
        await otherCode.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");

        var round = await _client.GetJsonAsync($"/api/v1/rounds/{code}");
        Assert.Equal("八届省委第六轮巡视", round["name"]!.GetValue<string>());
        Assert.Equal(1L, await KeysAsync(key));
    }

    [Fact]
    public async Task The_same_key_on_another_endpoint_is_refused()
    {
        var round = await _seed.RoundAsync();
        var key = Guid.NewGuid().ToString();
        using var first = await _client.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I"), title = "殡葬改革推行不力" }, key);
        await first.ShouldBeAsync(HttpStatusCode.Created);

        var code = Seed.Unique("R");
        using var other = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code), key);
        await other.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM rounds WHERE code = @code", new { code }));
    }

    [Theory]
    [InlineData(201)]
    [InlineData(1000)]
    public async Task A_key_that_is_too_long_is_refused(int length)
    {
        await _seed.UnitsAsync();
        var code = Seed.Unique("R");
        using var response = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code), new string('k', length));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["Idempotency-Key"]);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM rounds WHERE code = @code", new { code }));
    }

    [Fact]
    public async Task A_key_of_200_visible_characters_is_accepted()
    {
        await _seed.UnitsAsync();
        var key = new string('k', 190) + Guid.NewGuid().ToString("N")[..10];
        using var response = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(Seed.Unique("R")), key);
        await response.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(1L, await KeysAsync(key));
    }

    [Fact]
    public async Task A_key_with_non_ascii_or_spaces_is_refused()
    {
        await _seed.UnitsAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/rounds")
        {
            Content = System.Net.Http.Json.JsonContent.Create(RoundBody(Seed.Unique("R")), options: Http.Json),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "key with spaces");
        using var response = await _client.SendAsync(request, Ct);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task A_failed_create_does_not_use_up_the_key()
    {
        var code = await _seed.RoundAsync();
        var key = Guid.NewGuid().ToString();

        using var conflict = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code), key);
        await conflict.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Equal(0L, await KeysAsync(key));

        // Retried: still the same conflict (not a replay of a stored failure, not a 422).
        using var again = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(code), key);
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.False(again.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(0L, await KeysAsync(key));

        // An unknown unit (422) does not use it up either; the key then serves a create that succeeds.
        using var unknownUnit = await _client.PostJsonAsync("/api/v1/rounds", new
        {
            code = Seed.Unique("R"), name = "x", inspectedUnit = "NOPE", inspectionBody = "组", inspectionStart = "2024-09-01",
                inspectionEnd = "2024-12-31", state = "planned",
        }, key);
        await unknownUnit.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal(0L, await KeysAsync(key));

        var fresh = Seed.Unique("R");
        using var created = await _client.PostJsonAsync("/api/v1/rounds", RoundBody(fresh), key);
        await created.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal(1L, await KeysAsync(key));
    }

    [Fact]
    public async Task Concurrent_requests_with_the_same_key_create_one_row_and_answer_alike()
    {
        var round = await _seed.RoundAsync();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var key = Guid.NewGuid().ToString();
            var code = Seed.Unique("I");
            var body = new { round, code, title = "分层分类的社会救助体系不够健全" };
            var clients = Enumerable.Range(0, 4).Select(_ => app.Client()).ToList();

            var responses = await Task.WhenAll(clients.Select(c => c.PostJsonAsync("/api/v1/issues", body, key)));
            var bodies = new List<JsonNode>();
            foreach (var response in responses)
            {
                bodies.Add(await response.ShouldBeAsync(HttpStatusCode.Created));
                response.Dispose();
            }

            Assert.Single(bodies.Select(b => b["id"]!.GetValue<long>()).Distinct());
            Assert.Single(responses.Select(r => r.Headers.Location?.ToString()).Distinct());
            Assert.Equal(responses.Length - 1, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
            Assert.Equal(1L, await app.ScalarAsync<long>(
                "SELECT count(*) FROM issues i JOIN rounds r ON r.id = i.round_id WHERE r.code = @round AND i.code = @code", new { round, code }));
            Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'issue' AND entity_id = @id",
                new { id = bodies[0]["id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            Assert.Equal(1L, await KeysAsync(key));
        }
    }

    [Fact]
    public async Task Without_a_key_every_request_is_a_new_create()
    {
        var round = await _seed.RoundAsync();
        var keysBefore = await app.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys");
        using var first = await _client.PostJsonAsync("/api/v1/issues", new { round, code = "A", title = "t" });
        await first.ShouldBeAsync(HttpStatusCode.Created);
        using var second = await _client.PostJsonAsync("/api/v1/issues", new { round, code = "A", title = "t" });
        await second.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Equal(keysBefore, await app.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys"));
    }
}
