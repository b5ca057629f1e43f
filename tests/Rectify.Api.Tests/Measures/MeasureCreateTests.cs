using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

public sealed class MeasureCreateTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_created_measure_starts_planned_at_zero_with_a_location_and_an_etag()
    {
        var (issueId, round) = await _api.IssueAsync();
        var code = Seed.Unique("M");
        using var response = await Client.PostJsonAsync("/api/v1/measures", new
        {
            issueId, code, title = "加大殡葬基础设施建设力度", description = "加快推进27个在建项目建设。", ownerUnit = "HNMZT.SHSW",
            startDate = "2025-03-01", dueDate = "2026-06-30",
        });
        var body = await response.ShouldBeAsync(HttpStatusCode.Created);
        var id = body["id"]!.GetValue<long>();

        Assert.Equal($"/api/v1/measures/{id}", response.Headers.Location?.ToString());
        Assert.Equal("\"1\"", response.ETag());
        Assert.Equal(issueId, body["issueId"]!.GetValue<long>());
        Assert.Equal(round, body["round"]!.GetValue<string>());
        Assert.Equal(code, body["code"]!.GetValue<string>());
        Assert.Equal("加大殡葬基础设施建设力度", body["title"]!.GetValue<string>());
        Assert.Equal("加快推进27个在建项目建设。", body["description"]!.GetValue<string>());
        Assert.Equal("HNMZT.SHSW", body["ownerUnit"]!.GetValue<string>());
        Assert.Equal("planned", body["state"]!.GetValue<string>());
        Assert.Equal(0m, body["progress"]!.GetValue<decimal>());
        Assert.Equal("2025-03-01", body["startDate"]!.GetValue<string>());
        Assert.Equal("2026-06-30", body["dueDate"]!.GetValue<string>());
        Assert.Null(body["completedOn"]);
        Assert.Null(body["cancelReason"]);
        Assert.False(body["overdue"]!.GetValue<bool>());
        Assert.Equal("green", body["trafficLight"]!.GetValue<string>());
        Assert.Equal(["in_progress", "done", "cancelled"], body["allowedTransitions"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(RectifyApp.Start.UtcDateTime, body["createdAt"]!.GetValue<DateTime>().ToUniversalTime());
        // Progress entries and evidence come with GET of one measure only.
        Assert.False(body.AsObject().ContainsKey("progressEntries"));
        Assert.False(body.AsObject().ContainsKey("evidence"));

        var (read, etag) = await _api.GetAsync(id);
        Assert.Equal("\"1\"", etag);
        Assert.Equal("planned", read["state"]!.GetValue<string>());
        Assert.Equal(code, read["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_issue_is_unprocessable_naming_issueId()
    {
        await _api.Seed.UnitsAsync();
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM measures");
        using var response = await Client.PostJsonAsync("/api/v1/measures", MeasureApi.CreateBody(issueId: 987654321));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]!["issueId"]);
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM measures"));
    }

    [Fact]
    public async Task An_unknown_owner_unit_is_unprocessable_naming_the_owner_unit()
    {
        var (issueId, _) = await _api.IssueAsync();
        using var response = await Client.PostJsonAsync("/api/v1/measures", MeasureApi.CreateBody(issueId, owner: "NO-SUCH-UNIT"));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("owner unit", problem["detail"]!.GetValue<string>());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE issue_id = @issueId", new { issueId }));
    }

    [Fact]
    public async Task A_duplicate_code_under_the_same_issue_is_a_conflict_but_another_issue_may_reuse_it()
    {
        var (issueId, round) = await _api.IssueAsync();
        await _api.CreateAsync(issueId, code: "1.2");

        using var duplicate = await Client.PostJsonAsync("/api/v1/measures", MeasureApi.CreateBody(issueId, code: "1.2"));
        var problem = await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Contains("already exists under the issue", problem["detail"]!.GetValue<string>());

        var otherIssue = await _api.IssueInAsync(round);
        var (_, _, other) = await _api.CreateAsync(otherIssue, code: "1.2");
        Assert.Equal("1.2", other["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_due_date_before_the_start_date_is_refused_naming_dueDate()
    {
        var (issueId, _) = await _api.IssueAsync();
        using var response = await Client.PostJsonAsync("/api/v1/measures", MeasureApi.CreateBody(issueId, startDate: "2025-07-01", dueDate: "2025-06-30"));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.Contains("dueDate must not be before startDate", problem["errors"]!["dueDate"]![0]!.GetValue<string>());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE issue_id = @issueId", new { issueId }));

        // The same day is fine.
        var (_, _, sameDay) = await _api.CreateAsync(issueId, startDate: "2025-07-01", dueDate: "2025-07-01");
        Assert.Equal("2025-07-01", sameDay["dueDate"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("progress", 50)]
    [InlineData("state", "done")]
    [InlineData("completedOn", "2025-06-01")]
    [InlineData("overdue", false)]
    [InlineData("id", 7)]
    public async Task A_field_the_server_owns_is_refused_on_create_naming_it(string field, object value)
    {
        var (issueId, _) = await _api.IssueAsync();
        var body = MeasureApi.CreateBody(issueId);
        body[field] = value;
        using var response = await Client.PostJsonAsync("/api/v1/measures", body);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE issue_id = @issueId", new { issueId }));
    }

    [Theory]
    [InlineData("\"2025-13-01\"")]
    [InlineData("\"2025-02-30\"")]
    [InlineData("\"yesterday\"")]
    [InlineData("\"2025-6-1\"")]
    [InlineData("\"2025-06-01T00:00:00Z\"")]
    [InlineData("5")]
    [InlineData("true")]
    [InlineData("{}")]
    public async Task A_due_date_that_is_not_a_calendar_date_is_a_bad_request_naming_dueDate(string rawDueDate)
    {
        var (issueId, _) = await _api.IssueAsync();
        var json = $$"""
            {"issueId":{{issueId}},"code":"{{Seed.Unique("M")}}","title":"整治殡葬乱象","ownerUnit":"HNMZT.SHSW","dueDate":{{rawDueDate}}}
            """;
        using var response = await Client.SendRawAsync(HttpMethod.Post, "/api/v1/measures", json);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]!["dueDate"]);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE issue_id = @issueId", new { issueId }));
    }

    [Theory]
    [InlineData("issueId", "\"12\"")]
    [InlineData("issueId", "1.5")]
    [InlineData("title", "5")]
    [InlineData("startDate", "20250301")]
    public async Task A_value_of_the_wrong_type_is_a_bad_request_naming_the_field(string field, string rawValue)
    {
        var (issueId, _) = await _api.IssueAsync();
        var fields = new Dictionary<string, string>
        {
            ["issueId"] = issueId.ToString(System.Globalization.CultureInfo.InvariantCulture), ["code"] = $"\"{Seed.Unique("M")}\"",
            ["title"] = "\"整治殡葬乱象\"", ["ownerUnit"] = "\"HNMZT.SHSW\"", ["startDate"] = "\"2025-03-01\"", ["dueDate"] = "\"2025-12-31\"",
        };
        fields[field] = rawValue;
        var json = "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";
        using var response = await Client.SendRawAsync(HttpMethod.Post, "/api/v1/measures", json);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Theory]
    [InlineData("title")]
    [InlineData("ownerUnit")]
    [InlineData("dueDate")]
    [InlineData("issueId")]
    [InlineData("code")]
    public async Task A_missing_required_field_is_a_bad_request(string field)
    {
        var (issueId, _) = await _api.IssueAsync();
        var body = MeasureApi.CreateBody(issueId);
        body.Remove(field);
        using var response = await Client.PostJsonAsync("/api/v1/measures", body);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE issue_id = @issueId", new { issueId }));
    }

    [Theory]
    [InlineData("bad code!")]
    [InlineData("")]
    [InlineData(".1")]
    public async Task A_badly_formed_code_is_refused_naming_code(string code)
    {
        var (issueId, _) = await _api.IssueAsync();
        using var response = await Client.PostJsonAsync("/api/v1/measures", MeasureApi.CreateBody(issueId, code: code));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["Code"] ?? problem["errors"]!["code"]);
    }

    [Fact]
    public async Task A_create_replayed_with_the_same_idempotency_key_creates_one_measure()
    {
        var (issueId, _) = await _api.IssueAsync();
        var body = MeasureApi.CreateBody(issueId);
        var key = Guid.NewGuid().ToString();
        using var first = await Client.PostJsonAsync("/api/v1/measures", body, idempotencyKey: key);
        var created = await first.ShouldBeAsync(HttpStatusCode.Created);
        using var second = await Client.PostJsonAsync("/api/v1/measures", body, idempotencyKey: key);
        var replayed = await second.ShouldBeAsync(HttpStatusCode.Created);

        Assert.Equal(created["id"]!.GetValue<long>(), replayed["id"]!.GetValue<long>());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal("\"1\"", first.ETag()); // a new measure's first version, stored with the answer for the replay
        Assert.Equal(first.ETag(), second.ETag());
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE issue_id = @issueId", new { issueId }));

        body["title"] = "另一项措施";
        using var reused = await Client.PostJsonAsync("/api/v1/measures", body, idempotencyKey: key);
        await reused.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE issue_id = @issueId", new { issueId }));
    }

    [Fact]
    public async Task One_measure_reads_back_with_its_progress_entries_and_evidence_oldest_first()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        var first = await _api.AddProgressAsync(id, "2025-05-31", 20, "完成摸底排查。");
        var second = await _api.AddProgressAsync(id, "2025-06-14", 65, "截至6月中旬，项目主体完成65%。");
        using (var evidence = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new
        {
            title = "海南省公墓管理办法", documentNumber = "琼府〔2025〕12号", issuedOn = "2025-06-01", url = "https://www.hainan.gov.cn/gmgl.html",
        }))
        {
            await evidence.ShouldBeAsync(HttpStatusCode.Created);
        }

        var (measure, _) = await _api.GetAsync(id);
        Assert.Equal("in_progress", measure["state"]!.GetValue<string>());
        Assert.Equal(65m, measure["progress"]!.GetValue<decimal>());

        var entries = measure["progressEntries"]!.AsArray();
        Assert.Equal(2, entries.Count);
        Assert.Equal(first["id"]!.GetValue<long>(), entries[0]!["id"]!.GetValue<long>());
        Assert.Equal(second["id"]!.GetValue<long>(), entries[1]!["id"]!.GetValue<long>());
        Assert.Equal(id, entries[0]!["measureId"]!.GetValue<long>());
        Assert.Equal("2025-05-31", entries[0]!["reportedOn"]!.GetValue<string>());
        Assert.Equal(20m, entries[0]!["percent"]!.GetValue<decimal>());
        Assert.Equal("完成摸底排查。", entries[0]!["note"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, entries[0]!["recordedBy"]!.GetValue<string>());
        Assert.Equal("截至6月中旬，项目主体完成65%。", entries[1]!["note"]!.GetValue<string>());

        var items = measure["evidence"]!.AsArray();
        var item = Assert.Single(items);
        Assert.Equal("海南省公墓管理办法", item!["title"]!.GetValue<string>());
        Assert.Equal("琼府〔2025〕12号", item["documentNumber"]!.GetValue<string>());
        Assert.Equal("2025-06-01", item["issuedOn"]!.GetValue<string>());
        Assert.Equal("https://www.hainan.gov.cn/gmgl.html", item["url"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_new_measure_reads_back_with_empty_progress_entries_and_evidence()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        var (measure, _) = await _api.GetAsync(id);
        Assert.Empty(measure["progressEntries"]!.AsArray());
        Assert.Empty(measure["evidence"]!.AsArray());
    }

    [Fact]
    public async Task An_unknown_measure_is_a_not_found_problem()
    {
        using var response = await Client.GetAsync("/api/v1/measures/987654321", Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Contains("987654321", problem["detail"]!.GetValue<string>());

        using var notAnId = await Client.GetAsync("/api/v1/measures/abc", Ct);
        await notAnId.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
