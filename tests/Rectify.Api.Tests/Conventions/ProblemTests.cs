using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Conventions;

/// <summary>
/// Every error is an RFC 9457 problem with a stable type, a title and the trace id; malformed input is a 4xx,
/// never a 5xx, and no exception text, stack trace or SQL leaves the service.
/// </summary>
public sealed class ProblemTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();
    readonly Seed _seed = new(app);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A valid round body with one field replaced by raw JSON text.</summary>
    static string RoundJson(string? code = null, string? replace = null, string? with = null)
    {
        var json = $$"""
            {"code":"{{code ?? Seed.Unique("R")}}","name":"八届省委第六轮巡视","inspectedUnit":"HNMZT","inspectionBody":"第六巡视组",
             "inspectionStart":"2024-09-01","inspectionEnd":"2024-12-31","state":"rectifying"}
            """;
        return replace is null ? json : json.Replace(replace, with, StringComparison.Ordinal);
    }

    async Task<JsonNode> PostRawRoundAsync(string body, HttpStatusCode status, string type)
    {
        await _seed.UnitsAsync();
        var rounds = await app.ScalarAsync<long>("SELECT count(*) FROM rounds");
        using var response = await _client.SendRawAsync(HttpMethod.Post, "/api/v1/rounds", body);
        var problem = await response.ShouldBeProblemAsync(status, type);
        AssertNoInternals(problem);
        Assert.Equal(rounds, await app.ScalarAsync<long>("SELECT count(*) FROM rounds"));
        return problem;
    }

    /// <summary>Nothing of .NET's exception messages or type names reaches the caller.</summary>
    static void AssertNoInternals(JsonNode problem)
    {
        var text = problem.ToJsonString();
        foreach (var leak in new[] { "System.", "Exception", "Rectify.Api", "JsonTokenType", "BytePosition", "LineNumber", "postgres", "violates",
            "INSERT" })
            Assert.DoesNotContain(leak, text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("""{"code":""")]
    [InlineData("""{"code":"R-1","name":"八届""")]
    [InlineData("""{"code" "R-1"}""")]
    [InlineData("""{'code':'R-1'}""")]
    [InlineData("""{"code":"R-1",}""")]
    [InlineData("""not json at all""")]
    public async Task Malformed_or_truncated_json_is_a_malformed_request(string body)
    {
        var problem = await PostRawRoundAsync(body, HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]);
    }

    [Fact]
    public async Task A_json_array_instead_of_an_object_is_a_malformed_request()
        => await PostRawRoundAsync("[" + RoundJson() + "]", HttpStatusCode.BadRequest, "malformed-request");

    [Theory]
    [InlineData("\"name\":\"八届省委第六轮巡视\"", "\"name\":5", "name")]
    [InlineData("\"inspectionStart\":\"2024-09-01\"", "\"inspectionStart\":true", "inspectionStart")]
    [InlineData("\"inspectionStart\":\"2024-09-01\"", "\"inspectionStart\":\"2024-13-45\"", "inspectionStart")]
    [InlineData("\"inspectionStart\":\"2024-09-01\"", "\"inspectionStart\":\"01/09/2024\"", "inspectionStart")]
    [InlineData("\"name\":\"八届省委第六轮巡视\"", "\"name\":{\"zh\":\"八届\"}", "name")]
    [InlineData("\"state\":\"rectifying\"", "\"state\":\"done_ish\"", "state")]
    [InlineData("\"state\":\"rectifying\"", "\"state\":2", "state")]
    [InlineData("\"state\":\"rectifying\"", "\"state\":\"InProgress\"", "state")]
    public async Task A_value_of_the_wrong_type_is_refused_naming_the_field(string field, string replacement, string path)
    {
        var problem = await PostRawRoundAsync(RoundJson(replace: field, with: replacement), HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]![path]);
    }

    [Theory]
    [InlineData("inspecting, rectifying")]
    [InlineData("inspecting,rectifying")]
    [InlineData("planned,closed")]
    [InlineData("RECTIFYING")]
    [InlineData(" rectifying")]
    public async Task A_state_that_is_not_exactly_one_documented_name_is_refused_not_combined(string state)
    {
        // The built-in string-enum converter ORs comma-separated names together: "inspecting, rectifying" (1|2) would be stored as consolidating (3).
        var code = Seed.Unique("R");
        var problem =
            await PostRawRoundAsync(RoundJson(code, "\"state\":\"rectifying\"", $"\"state\":\"{state}\""), HttpStatusCode.BadRequest,
            "malformed-request");
        Assert.NotNull(problem["errors"]!["state"]);
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM rounds WHERE code = @code", new { code }));
    }

    [Fact]
    public async Task A_number_sent_as_a_string_is_refused_because_number_handling_is_strict()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var measure = await _seed.MeasureAsync(issue["id"]!.GetValue<long>());
        var url = $"/api/v1/measures/{measure["id"]}/progress";

        using var asString = await _client.SendRawAsync(HttpMethod.Post, url, """{"reportedOn":"2025-06-01","percent":"50"}""");
        var problem = await asString.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]!["percent"]);
        Assert.Equal(0L,
            await app.ScalarAsync<long>("SELECT count(*) FROM measure_progress WHERE measure_id = @id",
            new { id = measure["id"]!.GetValue<long>() }));

        using var asNumber = await _client.SendRawAsync(HttpMethod.Post, url, """{"reportedOn":"2025-06-01","percent":50}""");
        await asNumber.ShouldBeAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Null_for_a_required_field_is_refused_naming_the_field()
    {
        var problem = await PostRawRoundAsync(RoundJson(replace: "\"name\":\"八届省委第六轮巡视\"", with: "\"name\":null"),
            HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]!["name"]);
    }

    [Fact]
    public async Task Missing_required_fields_are_refused()
    {
        var problem = await PostRawRoundAsync("""{"code":"R-missing","name":"x"}""", HttpStatusCode.BadRequest, "malformed-request");
        Assert.Contains("missing", problem["detail"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_empty_object_is_refused()
        => await PostRawRoundAsync("{}", HttpStatusCode.BadRequest, "malformed-request");

    [Fact]
    public async Task A_duplicated_json_key_is_refused()
    {
        var body = RoundJson(code: "a").Replace("{\"code\":\"a\"", "{\"code\":\"a\",\"code\":\"b\"", StringComparison.Ordinal);
        await PostRawRoundAsync(body, HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM rounds WHERE code IN ('a', 'b')"));
    }

    [Fact]
    public async Task Deeply_nested_json_is_refused()
    {
        var nested = new string('[', 100) + new string(']', 100);
        await PostRawRoundAsync(RoundJson(replace: "\"name\":\"八届省委第六轮巡视\"", with: "\"name\":" + nested), HttpStatusCode.BadRequest,
            "malformed-request");

        var objects = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);
        await PostRawRoundAsync(objects, HttpStatusCode.BadRequest, "malformed-request");
    }

    [Fact]
    public async Task An_unknown_field_is_refused_naming_it()
    {
        var problem =
            await PostRawRoundAsync(RoundJson(replace: "\"state\":", with: "\"version\":7,\"state\":"), HttpStatusCode.BadRequest,
            "malformed-request");
        var errors = problem["errors"]!.AsObject();
        Assert.Contains(errors, e => e.Key.EndsWith("version", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_long_strings_are_refused_naming_the_field()
    {
        var problem = await PostRawRoundAsync(RoundJson(replace: "\"name\":\"八届省委第六轮巡视\"", with: $"\"name\":\"{new string('巡', 301)}\""),
            HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["name"] ?? problem["errors"]!["Name"]);

        var longCode = await PostRawRoundAsync(RoundJson(code: new string('A', 65)), HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(longCode["errors"]!["code"] ?? longCode["errors"]!["Code"]);

        var round = await _seed.RoundAsync();
        using var longTitle = await _client.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I"), title = new string('殡', 501) });
        var issueProblem = await longTitle.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(issueProblem["errors"]!["title"] ?? issueProblem["errors"]!["Title"]);

        // A megabyte of text in a field is refused, not stored nor a 5xx.
        using var huge =
            await _client.PostJsonAsync("/api/v1/issues",
            new { round, code = Seed.Unique("I"), title = "x", description = new string('述', 1_000_000) });
        await huge.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM issues WHERE length(title) > 500 OR length(description) > 20000"));
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_an_unsupported_media_type()
    {
        await _seed.UnitsAsync();
        using var text = await _client.SendRawAsync(HttpMethod.Post, "/api/v1/rounds", RoundJson(), "text/plain");
        await text.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");

        using var form = await _client.SendRawAsync(HttpMethod.Post, "/api/v1/rounds", "code=R-1&name=x", "application/x-www-form-urlencoded");
        await form.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task An_empty_body_is_a_bad_request()
    {
        await _seed.UnitsAsync();
        using var empty = await _client.SendRawAsync(HttpMethod.Post, "/api/v1/rounds", "");
        await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        using var noContent = await _client.PostAsync("/api/v1/rounds", null, Ct);
        var problem = await noContent.ShouldBeAsync(HttpStatusCode.BadRequest);
        Assert.StartsWith("urn:rectify:problem:", problem["type"]!.GetValue<string>());

        using var whitespace = await _client.SendRawAsync(HttpMethod.Post, "/api/v1/rounds", "   ");
        await whitespace.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");

        using var jsonNull = await _client.SendRawAsync(HttpMethod.Post, "/api/v1/rounds", "null");
        await jsonNull.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_unknown_route_is_a_not_found_problem()
    {
        using var response = await _client.GetAsync("/api/v1/no-such-thing", Ct);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        using var root = await _client.GetAsync("/api/v2/rounds", Ct);
        await root.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        // A route constraint that does not match (an issue id is a number) is a 404 too, not a 500.
        using var notANumber = await _client.GetAsync("/api/v1/issues/abc", Ct);
        await notANumber.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task A_wrong_method_is_a_method_not_allowed_problem()
    {
        using var delete = await _client.DeleteAsync("/api/v1/rounds", Ct);
        await delete.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method-not-allowed");

        using var patch = await _client.SendRawAsync(HttpMethod.Patch, "/api/v1/issues/1", "{}");
        await patch.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }

    [Theory]
    [InlineData("/api/v1/rounds?limit=abc", "limit")]
    [InlineData("/api/v1/rounds?limit=0", "limit")]
    [InlineData("/api/v1/rounds?limit=99999999999", "limit")]
    [InlineData("/api/v1/rounds?cursor=garbage", "cursor")]
    [InlineData("/api/v1/issues?cursor=%E6%AE%A1", "cursor")]
    [InlineData("/api/v1/issues?cursor=azE6LTE", "cursor")]
    [InlineData("/api/v1/issues?parent=abc", "parent")]
    [InlineData("/api/v1/issues?overdue=maybe", "overdue")]
    [InlineData("/api/v1/rounds?state=done_ish", "state")]
    [InlineData("/api/v1/measures?dueBefore=2025-13-01", "dueBefore")]
    [InlineData("/api/v1/journal?from=yesterday", "from")]
    public async Task Invalid_query_values_are_refused_naming_the_parameter(string url, string parameter)
    {
        using var response = await _client.GetAsync(url, Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        AssertNoInternals(problem);
        Assert.NotNull(problem["errors"]![parameter]);
    }

    [Fact]
    public async Task A_cursor_from_another_list_or_forged_is_never_a_server_error()
    {
        // "k1:abc" is well-formed but not an id.
        var forged = Convert.ToBase64String(Encoding.UTF8.GetBytes("k1:abc")).TrimEnd('=');
        using var response = await _client.GetAsync($"/api/v1/journal?cursor={forged}", Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["cursor"]);
    }

    [Fact]
    public async Task Control_characters_and_emoji_round_trip()
    {
        var round = await _seed.RoundAsync();
        const string title = "殡葬改革 🏛️👨‍👩‍👧 tab\there\nnew line \u0001\u001f \u200b \"quoted\" <b>&amp;</b> \\ end";
        var created = await _seed.IssueAsync(round, title: title);
        Assert.Equal(title, created["title"]!.GetValue<string>());

        var read = await _client.GetJsonAsync($"/api/v1/issues/{created["id"]}");
        Assert.Equal(title, read["title"]!.GetValue<string>());
        Assert.Equal(title, await app.ScalarAsync<string>("SELECT title FROM issues WHERE id = @id", new { id = created["id"]!.GetValue<long>() }));

        var found = await _client.GetJsonAsync($"/api/v1/issues?round={round}&q={Uri.EscapeDataString("🏛️👨‍👩‍👧")}");
        Assert.Equal(created["id"]!.GetValue<long>(), Assert.Single(found["items"]!.AsArray())!["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_nul_character_is_refused_cleanly()
    {
        var round = await _seed.RoundAsync();
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM issues");
        using var response = await _client.PostJsonAsync("/api/v1/issues", new { round, code = Seed.Unique("I"), title = "殡葬\u0000改革" });
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        AssertNoInternals(problem);
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM issues"));

        using var query = await _client.GetAsync($"/api/v1/issues?q=%00", Ct);
        Assert.True((int)query.StatusCode < 500, $"q=%00 answered {(int)query.StatusCode}");
    }

    [Theory]
    [InlineData("""{"round":"R","code":"I-1","title":"\ud800"}""")]
    [InlineData("""{"round":"R","code":"I-1","title":"\udc00 tail"}""")]
    [InlineData("""{"round":"R","code":"I-1","title":"\u12"}""")]
    public async Task Invalid_escapes_and_lone_surrogates_are_refused_cleanly(string body)
    {
        using var response = await _client.SendRawAsync(HttpMethod.Post, "/api/v1/issues", body);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        AssertNoInternals(problem);
    }

    [Fact]
    public async Task Invalid_utf8_bytes_are_refused_cleanly()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/issues")
        {
            Content = new ByteArrayContent([.. "{\"round\":\"R\",\"code\":\"I-1\",\"title\":\""u8, 0xC3, 0x28, 0xFF, .. "\"}"u8]),
        };
        request.Content.Headers.ContentType = new("application/json");
        using var response = await _client.SendAsync(request, Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        AssertNoInternals(problem);
    }

    [Fact]
    public async Task A_sql_fragment_is_stored_and_searched_literally()
    {
        var round = await _seed.RoundAsync();
        const string fragment = "'; DROP TABLE issues; --";
        var created = await _seed.IssueAsync(round, title: "殡葬 " + fragment, description: "100% _done_ \\ like");
        Assert.Equal("殡葬 " + fragment, created["title"]!.GetValue<string>());

        var found = await _client.GetJsonAsync($"/api/v1/issues?q={Uri.EscapeDataString(fragment)}");
        Assert.Equal(created["id"]!.GetValue<long>(), Assert.Single(found["items"]!.AsArray())!["id"]!.GetValue<long>());

        // LIKE wildcards in q match themselves only.
        var other = await _seed.IssueAsync(round, title: "完成度百分百", description: "100 done");
        var percent = await _client.GetJsonAsync($"/api/v1/issues?round={round}&q={Uri.EscapeDataString("100%")}");
        Assert.Equal([created["id"]!.GetValue<long>()], percent["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()));
        var underscore = await _client.GetJsonAsync($"/api/v1/issues?round={round}&q={Uri.EscapeDataString("_done_")}");
        Assert.Equal([created["id"]!.GetValue<long>()], underscore["items"]!.AsArray().Select(i => i!["id"]!.GetValue<long>()));
        Assert.NotEqual(created["id"]!.GetValue<long>(), other["id"]!.GetValue<long>());

        using var unitQuery = await _client.GetAsync($"/api/v1/units/{Uri.EscapeDataString(fragment)}", Ct);
        await unitQuery.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        using var roundFilter = await _client.GetAsync($"/api/v1/issues?round={Uri.EscapeDataString(fragment)}", Ct);
        Assert.Empty((await roundFilter.ShouldBeAsync(HttpStatusCode.OK))["items"]!.AsArray());

        Assert.True(await app.ScalarAsync<long>("SELECT count(*) FROM issues") >= 2);
    }

    [Fact]
    public async Task A_problem_carries_the_trace_id_of_the_request_and_the_instance_path()
    {
        using var response = await _client.GetAsync("/api/v1/rounds/NO-SUCH-ROUND", Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal("/api/v1/rounds/NO-SUCH-ROUND", problem["instance"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{32}$", problem["traceId"]!.GetValue<string>());
        Assert.Equal("Not found", problem["title"]!.GetValue<string>());
    }
}
