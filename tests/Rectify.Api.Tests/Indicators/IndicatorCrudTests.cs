using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Indicators;

/// <summary>The indicator catalogue: create, read, update with If-Match, delete, the journal, idempotent creates.</summary>
public sealed class IndicatorCrudTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IndicatorKit _kit = new(app);
    HttpClient Client => _kit.Client;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An issue with one measure, for the links.</summary>
    async Task<(long IssueId, long MeasureId)> IssueWithMeasureAsync()
    {
        var round = await _kit.Seed.RoundAsync();
        var issueId = (await _kit.Seed.IssueAsync(round, title: "福利彩票发行销售管理不规范"))["id"]!.GetValue<long>();
        var measureId = (await _kit.Seed.MeasureAsync(issueId))["id"]!.GetValue<long>();
        return (issueId, measureId);
    }

    Dictionary<string, object?> FullBody(long issueId, long measureId, string code)
    {
        var body = IndicatorKit.Body(code, name: "福利彩票销售额（累计）", timeAggregation: "cumulative");
        body["nameEn"] = "Welfare lottery sales, year to date";
        body["description"] = "全省福利彩票销售6.97亿元，同比增长19.7%。";
        body["targetValue"] = 80000.25m;
        body["targetDate"] = "2025-12-31";
        body["baselineValue"] = 58230m;
        body["baselinePeriod"] = "2024-12";
        body["reportingDay"] = 10;
        body["reporters"] = new[] { "460100", "460000" };
        body["issues"] = new[] { issueId };
        body["measures"] = new[] { measureId };
        return body;
    }

    static void AssertFull(JsonNode indicator, string code, long issueId, long measureId, DateTimeOffset at)
    {
        Assert.Equal(code, indicator["code"]!.GetValue<string>());
        Assert.Equal("福利彩票销售额（累计）", indicator["name"]!.GetValue<string>());
        Assert.Equal("Welfare lottery sales, year to date", indicator["nameEn"]!.GetValue<string>());
        Assert.Equal("全省福利彩票销售6.97亿元，同比增长19.7%。", indicator["description"]!.GetValue<string>());
        Assert.Equal("万元", indicator["measureUnit"]!.GetValue<string>());
        Assert.Equal("amount", indicator["valueType"]!.GetValue<string>());
        Assert.Equal("monthly", indicator["frequency"]!.GetValue<string>());
        Assert.Equal("sum", indicator["regionAggregation"]!.GetValue<string>());
        Assert.Equal("cumulative", indicator["timeAggregation"]!.GetValue<string>());
        Assert.Equal("higher_is_better", indicator["direction"]!.GetValue<string>());
        Assert.Equal(80000.25m, indicator["targetValue"]!.GetValue<decimal>());
        Assert.Equal("2025-12-31", indicator["targetDate"]!.GetValue<string>());
        Assert.Equal(58230m, indicator["baselineValue"]!.GetValue<decimal>());
        Assert.Equal("2024-12", indicator["baselinePeriod"]!.GetValue<string>());
        Assert.Null(indicator["numerator"]);
        Assert.Null(indicator["denominator"]);
        Assert.Equal(10, indicator["reportingDay"]!.GetValue<int>());
        Assert.Equal(["460000", "460100"], IndicatorKit.Strings(indicator["reporters"]));
        Assert.Equal([issueId], IndicatorKit.Longs(indicator["issues"]));
        Assert.Equal([measureId], IndicatorKit.Longs(indicator["measures"]));
        Assert.Equal(at.UtcDateTime, indicator["createdAt"]!.GetValue<DateTime>().ToUniversalTime());
    }

    [Fact]
    public async Task A_created_indicator_reads_back_field_for_field_with_location_and_etag()
    {
        var (issueId, measureId) = await IssueWithMeasureAsync();
        var code = Seed.Unique("LOTTERY-SALES");
        var at = app.Clock.GetUtcNow();
        using var response = await Client.PostJsonAsync("/api/v1/indicators", FullBody(issueId, measureId, code));
        var created = await response.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/v1/indicators/{code}", response.Headers.Location?.ToString());
        Assert.Equal("\"1\"", response.ETag());
        AssertFull(created, code, issueId, measureId, at);

        var (read, etag) = await _kit.GetAsync(code);
        Assert.Equal("\"1\"", etag);
        AssertFull(read, code, issueId, measureId, at);
        Assert.Equal(created.ToJsonString(), read.ToJsonString());
    }

    [Fact]
    public async Task A_minimal_indicator_has_empty_links_and_null_optionals()
    {
        var (code, _, created) =
            await _kit.CreateAsync(IndicatorKit.Body(name: "低保对象人数", valueType: "count", measureUnit: "人", timeAggregation: "stock"));
        Assert.Equal("低保对象人数", created["name"]!.GetValue<string>());
        Assert.Equal("count", created["valueType"]!.GetValue<string>());
        Assert.Equal("stock", created["timeAggregation"]!.GetValue<string>());
        Assert.Empty(created["reporters"]!.AsArray());
        Assert.Empty(created["issues"]!.AsArray());
        Assert.Empty(created["measures"]!.AsArray());
        foreach (var optional in new[] { "nameEn", "description", "targetValue", "targetDate", "baselineValue", "baselinePeriod", "numerator",
            "denominator", "reportingDay" })
            Assert.Null(created[optional]);
        Assert.Equal(1, await _kit.CountAsync(code));
    }

    [Fact]
    public async Task An_unknown_indicator_is_not_found()
    {
        using var response = await Client.GetAsync("/api/v1/indicators/NO-SUCH-INDICATOR", Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Contains("NO-SUCH-INDICATOR", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_duplicate_code_is_a_conflict()
    {
        var code = await _kit.CreateCodeAsync(IndicatorKit.Body());
        using var response = await Client.PostJsonAsync("/api/v1/indicators", IndicatorKit.Body(code, name: "另一个"));
        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Equal("福利彩票销售额", (await _kit.GetAsync(code)).Body["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_update_with_the_current_etag_replaces_fields_and_links_and_stale_or_missing_if_match_is_refused()
    {
        await _kit.RegionsAsync();
        var (issueId, measureId) = await IssueWithMeasureAsync();
        var (otherIssue, _) = await IssueWithMeasureAsync();
        var code = Seed.Unique("LOTTERY-SALES");
        var (_, etag, created) = await _kit.CreateAsync(FullBody(issueId, measureId, code));

        var body = IndicatorKit.UpdateBody(created);
        body["name"] = "福利彩票销售额";
        body["nameEn"] = null;
        body["direction"] = "lower_is_better";
        body["frequency"] = "quarterly";
        body["baselinePeriod"] = "2024-Q4";
        body["targetValue"] = null;
        body["targetDate"] = null;
        body["reportingDay"] = 15;
        body["reporters"] = new[] { "460200", "460400" };
        body["issues"] = new[] { otherIssue, issueId };
        body["measures"] = Array.Empty<long>();

        app.Clock.Advance(TimeSpan.FromHours(1));
        using (var missing = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, ifMatch: null))
            await missing.ShouldBeProblemAsync(HttpStatusCode.PreconditionRequired, "precondition-required");

        using var ok = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag);
        var updated = await ok.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("\"2\"", ok.ETag());
        Assert.Equal("福利彩票销售额", updated["name"]!.GetValue<string>());
        Assert.Null(updated["nameEn"]);
        Assert.Equal("lower_is_better", updated["direction"]!.GetValue<string>());
        Assert.Equal("quarterly", updated["frequency"]!.GetValue<string>());
        Assert.Equal("2024-Q4", updated["baselinePeriod"]!.GetValue<string>());
        Assert.Null(updated["targetValue"]);
        Assert.Null(updated["targetDate"]);
        Assert.Equal(15, updated["reportingDay"]!.GetValue<int>());
        Assert.Equal(["460200", "460400"], IndicatorKit.Strings(updated["reporters"]));
        Assert.Equal(new[] { issueId, otherIssue }.Order().ToArray(), IndicatorKit.Longs(updated["issues"]));
        Assert.Empty(updated["measures"]!.AsArray());
        Assert.Equal(created["createdAt"]!.GetValue<DateTime>(), updated["createdAt"]!.GetValue<DateTime>());
        Assert.Equal(app.Clock.GetUtcNow().UtcDateTime, updated["updatedAt"]!.GetValue<DateTime>().ToUniversalTime());

        body["name"] = "过期的修改";
        using (var stale = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag))
            await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        var (read, readEtag) = await _kit.GetAsync(code);
        Assert.Equal("\"2\"", readEtag);
        Assert.Equal(updated.ToJsonString(), read.ToJsonString());
    }

    [Fact]
    public async Task Updating_an_unknown_indicator_is_not_found()
    {
        var (_, _, created) = await _kit.CreateAsync(IndicatorKit.Body());
        using var response = await Client.PutJsonAsync("/api/v1/indicators/NO-SUCH-INDICATOR", IndicatorKit.UpdateBody(created), "\"1\"");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task The_code_cannot_be_changed_by_an_update()
    {
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body());
        var body = IndicatorKit.UpdateBody(created);
        body["code"] = "RENAMED";
        using var response = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]!["code"]);
        Assert.Equal(etag, (await _kit.GetAsync(code)).ETag);
    }

    [Fact]
    public async Task The_frequency_cannot_change_once_values_exist_but_other_fields_can()
    {
        await _kit.RegionsAsync();
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body());
        await _kit.PushAsync((code, "460100", "2025-09", 1.5m));

        var quarterly = IndicatorKit.UpdateBody(created);
        quarterly["frequency"] = "quarterly";
        using (var refused = await Client.PutJsonAsync($"/api/v1/indicators/{code}", quarterly, etag))
            await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Equal("monthly", (await _kit.GetAsync(code)).Body["frequency"]!.GetValue<string>());

        var renamed = IndicatorKit.UpdateBody(created);
        renamed["name"] = "福利彩票月销售额";
        using var ok = await Client.PutJsonAsync($"/api/v1/indicators/{code}", renamed, etag);
        Assert.Equal("福利彩票月销售额", (await ok.ShouldBeAsync(HttpStatusCode.OK))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_indicator_with_values_cannot_become_a_ratio()
    {
        await _kit.RegionsAsync();
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count", measureUnit: "个"));
        var fixedCount = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count", measureUnit: "个"));
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body(valueType: "count", measureUnit: "个"));
        await _kit.PushAsync((code, "460100", "2025-09", 3m));

        var body = IndicatorKit.UpdateBody(created);
        body["valueType"] = "ratio";
        body["numerator"] = fixedCount;
        body["denominator"] = found;
        using var response = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag);
        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Equal("count", (await _kit.GetAsync(code)).Body["valueType"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_indicator_without_values_may_change_its_frequency()
    {
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body());
        var body = IndicatorKit.UpdateBody(created);
        body["frequency"] = "yearly";
        using var response = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag);
        Assert.Equal("yearly", (await response.ShouldBeAsync(HttpStatusCode.OK))["frequency"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deleting_needs_if_match_and_removes_the_indicator()
    {
        var (code, etag, _) = await _kit.CreateAsync(IndicatorKit.Body());
        using (var missing = await Client.DeleteAsync($"/api/v1/indicators/{code}", Ct))
            await missing.ShouldBeProblemAsync(HttpStatusCode.PreconditionRequired, "precondition-required");
        using (var stale = await DeleteAsync(code, "\"7\""))
            await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        Assert.Equal(1, await _kit.CountAsync(code));

        using (var deleted = await DeleteAsync(code, etag))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.Empty(await deleted.Content.ReadAsStringAsync(Ct));
        }
        using (var gone = await Client.GetAsync($"/api/v1/indicators/{code}", Ct))
            await gone.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        using (var again = await DeleteAsync(code, etag))
            await again.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        // The code is free again.
        await _kit.CreateAsync(IndicatorKit.Body(code));
    }

    [Fact]
    public async Task An_indicator_with_values_cannot_be_deleted()
    {
        await _kit.RegionsAsync();
        var (code, etag, _) = await _kit.CreateAsync(IndicatorKit.Body());
        await _kit.PushAsync((code, "460100", "2025-09", 0.81m), (code, "460200", "2025-09", 0.4m));
        using var response = await DeleteAsync(code, etag);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        Assert.Contains("2 values", problem["detail"]!.GetValue<string>());
        Assert.Equal(1, await _kit.CountAsync(code));
    }

    [Fact]
    public async Task A_part_of_a_ratio_cannot_be_deleted_until_the_ratio_is()
    {
        var found = await _kit.CreateAsync(IndicatorKit.Body(valueType: "count", measureUnit: "个"));
        var fixedCount = await _kit.CreateAsync(IndicatorKit.Body(valueType: "count", measureUnit: "个"));
        var ratio = await _kit.CreateAsync(IndicatorKit.RatioBody(fixedCount.Code, found.Code));

        foreach (var part in new[] { found, fixedCount })
        {
            using var refused = await DeleteAsync(part.Code, part.ETag);
            await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
            Assert.Equal(1, await _kit.CountAsync(part.Code));
        }

        using (var ratioDeleted = await DeleteAsync(ratio.Code, ratio.ETag))
            Assert.Equal(HttpStatusCode.NoContent, ratioDeleted.StatusCode);
        using var partDeleted = await DeleteAsync(found.Code, found.ETag);
        Assert.Equal(HttpStatusCode.NoContent, partDeleted.StatusCode);
    }

    [Fact]
    public async Task Create_update_and_delete_are_journalled_with_before_and_after()
    {
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body(name: "殡葬服务机构取消收费项目数", valueType: "count", measureUnit: "项"));
        app.Clock.Advance(TimeSpan.FromMinutes(5));
        var body = IndicatorKit.UpdateBody(created);
        body["name"] = "取消收费项目数";
        using (var update = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag))
            await update.ShouldBeAsync(HttpStatusCode.OK);
        using (var delete = await DeleteAsync(code, "\"2\""))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        var entries = (await Client.GetJsonAsync($"/api/v1/journal?entity=indicator&entityId={code}"))["items"]!.AsArray();
        Assert.Equal(["create", "update", "delete"], entries.Select(e => e!["action"]!.GetValue<string>()));
        Assert.All(entries, e => Assert.Equal(RectifyApp.ClientName, e!["actor"]!.GetValue<string>()));

        var (create, change, removal) = (entries[0]!, entries[1]!, entries[2]!);
        Assert.Null(create["before"]);
        Assert.Equal("殡葬服务机构取消收费项目数", create["after"]!["name"]!.GetValue<string>());
        Assert.Equal("count", create["after"]!["valueType"]!.GetValue<string>());
        Assert.Equal("殡葬服务机构取消收费项目数", change["before"]!["name"]!.GetValue<string>());
        Assert.Equal("取消收费项目数", change["after"]!["name"]!.GetValue<string>());
        Assert.Equal("取消收费项目数", removal["before"]!["name"]!.GetValue<string>());
        Assert.Null(removal["after"]);
    }

    [Fact]
    public async Task A_refused_change_writes_no_journal_entry()
    {
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body());
        var body = IndicatorKit.UpdateBody(created);
        body["reporters"] = new[] { "NO-SUCH-UNIT" };
        using (var refused = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag))
            await refused.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'indicator' AND entity_id = @code", new { code }));
        Assert.Equal(etag, (await _kit.GetAsync(code)).ETag);
    }

    [Fact]
    public async Task A_create_replayed_with_the_same_idempotency_key_creates_one_indicator()
    {
        var body = IndicatorKit.Body(name: "新增纳入低保人数", valueType: "count", measureUnit: "人");
        var code = (string)body["code"]!;
        var key = Guid.NewGuid().ToString();
        using var first = await Client.PostJsonAsync("/api/v1/indicators", body, idempotencyKey: key);
        var created = await first.ShouldBeAsync(HttpStatusCode.Created);
        using var second = await Client.PostJsonAsync("/api/v1/indicators", body, idempotencyKey: key);
        var replayed = await second.ShouldBeAsync(HttpStatusCode.Created);

        Assert.Equal(["true"], second.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(created.ToJsonString(), replayed.ToJsonString());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1, await _kit.CountAsync(code));
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'indicator' AND entity_id = @code", new { code }));

        body["name"] = "另一个指标";
        using var reused = await Client.PostJsonAsync("/api/v1/indicators", body, idempotencyKey: key);
        await reused.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal("新增纳入低保人数", (await _kit.GetAsync(code)).Body["name"]!.GetValue<string>());
    }

    Task<HttpResponseMessage> DeleteAsync(string code, string ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/indicators/{code}");
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return Client.SendAsync(request, Ct);
    }
}
