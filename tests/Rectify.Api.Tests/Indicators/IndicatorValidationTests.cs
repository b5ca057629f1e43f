using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Indicators;

/// <summary>What a create or an update is refused for, naming the field, and that nothing is written then.</summary>
public sealed class IndicatorValidationTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly IndicatorKit _kit = new(app);
    HttpClient Client => _kit.Client;

    /// <summary>Posts <paramref name="body"/>, asserts the problem and that no indicator with its code was created.</summary>
    async Task<JsonNode> RefusedAsync(Dictionary<string, object?> body, HttpStatusCode status, string? type = null)
    {
        using var response = await Client.PostJsonAsync("/api/v1/indicators", body);
        var problem = await response.ShouldBeProblemAsync(status, type);
        if (body.TryGetValue("code", out var code) && code is string text) Assert.Equal(0, await _kit.CountAsync(text));
        return problem;
    }

    [Theory]
    [InlineData("code")]
    [InlineData("name")]
    [InlineData("measureUnit")]
    [InlineData("valueType")]
    [InlineData("frequency")]
    [InlineData("regionAggregation")]
    [InlineData("timeAggregation")]
    [InlineData("direction")]
    public async Task A_missing_required_field_is_a_bad_request(string field)
    {
        var description = Seed.Unique("缺字段");
        var body = IndicatorKit.Body();
        body["description"] = description;
        body.Remove(field);
        await RefusedAsync(body, HttpStatusCode.BadRequest, "malformed-request");
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM indicators WHERE description = @description", new { description }));
    }

    [Theory]
    [InlineData("bad code!")]
    [InlineData("")]
    [InlineData(".LEADING-DOT")]
    [InlineData("彩票")]
    [InlineData("A1234567890123456789012345678901234567890123456789012345678901234")] // 65 characters
    public async Task A_badly_formed_code_is_refused_naming_code(string code)
    {
        var problem = await RefusedAsync(IndicatorKit.Body(code), HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "code"));
    }

    [Fact]
    public async Task A_code_of_64_characters_is_accepted()
    {
        var code = "A" + new string('9', 63);
        await _kit.CreateAsync(IndicatorKit.Body(code));
        Assert.Equal(1, await _kit.CountAsync(code));
    }

    [Theory]
    [InlineData("name", "")]
    [InlineData("measureUnit", "")]
    [InlineData("measureUnit", "一二三四五六七八九十一二三四五六七八九十一")] // 21 characters
    [InlineData("baselinePeriod", "2024-12-31")]
    public async Task A_text_of_the_wrong_length_is_refused_naming_it(string field, string value)
    {
        var body = IndicatorKit.Body();
        body[field] = value;
        if (field == "baselinePeriod") body["baselineValue"] = 1m;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, field));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(29)]
    [InlineData(-1)]
    public async Task A_reporting_day_outside_1_to_28_is_refused(int day)
    {
        var body = IndicatorKit.Body();
        body["reportingDay"] = day;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "reportingDay"));
    }

    [Theory]
    [InlineData("valueType", "Count")]
    [InlineData("valueType", "COUNT")]
    [InlineData("valueType", "number")]
    [InlineData("frequency", "Monthly")]
    [InlineData("frequency", "month")]
    [InlineData("frequency", "monthly,yearly")]
    [InlineData("regionAggregation", "Sum")]
    [InlineData("regionAggregation", "avg")]
    [InlineData("timeAggregation", "year_to_date")]
    [InlineData("direction", "higherIsBetter")]
    [InlineData("direction", "HigherIsBetter")]
    public async Task An_enum_value_that_is_not_exactly_a_documented_name_is_refused_naming_it(string field, string value)
    {
        var body = IndicatorKit.Body();
        body[field] = value;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task An_enum_given_as_a_number_is_refused()
    {
        var body = IndicatorKit.Body();
        body["frequency"] = 0;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]!["frequency"]);
    }

    [Theory]
    [InlineData("numerator")]
    [InlineData("denominator")]
    public async Task A_ratio_without_one_of_its_parts_is_refused_naming_the_missing_part(string missing)
    {
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var body = IndicatorKit.RatioBody(found, found + "X");
        body.Remove(missing);
        body[missing == "numerator" ? "denominator" : "numerator"] = found;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, missing));
    }

    [Fact]
    public async Task A_ratio_of_an_indicator_by_itself_is_refused_naming_denominator()
    {
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var problem = await RefusedAsync(IndicatorKit.RatioBody(found, found), HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "denominator"));
    }

    [Theory]
    [InlineData("numerator")]
    [InlineData("denominator")]
    public async Task An_indicator_that_is_not_a_ratio_may_not_name_a_part(string part)
    {
        var other = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var body = IndicatorKit.Body(valueType: "count");
        body[part] = other;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, part));
    }

    [Theory]
    [InlineData("numerator")]
    [InlineData("denominator")]
    public async Task A_ratio_whose_part_does_not_exist_is_unprocessable_naming_the_part(string part)
    {
        var known = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var body = IndicatorKit.RatioBody(known, known);
        body[part] = "NO-SUCH-INDICATOR";
        var problem = await RefusedAsync(body, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, part));
        Assert.Contains("NO-SUCH-INDICATOR", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("numerator")]
    [InlineData("denominator")]
    public async Task A_ratio_whose_part_is_a_ratio_is_unprocessable_naming_the_part(string part)
    {
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var fixedCount = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var rate = await _kit.CreateCodeAsync(IndicatorKit.RatioBody(fixedCount, found));
        var body = part == "numerator" ? IndicatorKit.RatioBody(rate, found) : IndicatorKit.RatioBody(fixedCount, rate);
        var problem = await RefusedAsync(body, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, part));
    }

    [Fact]
    public async Task A_ratio_whose_part_has_another_frequency_is_unprocessable_naming_the_part()
    {
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var fixedQuarterly = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count", frequency: "quarterly"));
        var problem = await RefusedAsync(IndicatorKit.RatioBody(fixedQuarterly, found), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "numerator"));
    }

    [Fact]
    public async Task A_part_of_a_ratio_cannot_change_its_frequency_or_become_a_ratio()
    {
        var found = await _kit.CreateAsync(IndicatorKit.Body(valueType: "count"));
        var fixedCount = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var other = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        await _kit.CreateCodeAsync(IndicatorKit.RatioBody(fixedCount, found.Code));

        var quarterly = IndicatorKit.UpdateBody(found.Body);
        quarterly["frequency"] = "quarterly";
        using (var response = await Client.PutJsonAsync($"/api/v1/indicators/{found.Code}", quarterly, found.ETag))
            await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");

        var ratio = IndicatorKit.UpdateBody(found.Body);
        ratio["valueType"] = "ratio";
        ratio["numerator"] = fixedCount;
        ratio["denominator"] = other;
        using (var response = await Client.PutJsonAsync($"/api/v1/indicators/{found.Code}", ratio, found.ETag))
            await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");

        var (read, etag) = await _kit.GetAsync(found.Code);
        Assert.Equal(found.ETag, etag);
        Assert.Equal("count", read["valueType"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_ratio_cannot_be_made_a_part_of_itself()
    {
        var found = await _kit.CreateCodeAsync(IndicatorKit.Body(valueType: "count"));
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body(valueType: "count"));
        var body = IndicatorKit.UpdateBody(created);
        body["valueType"] = "ratio";
        body["numerator"] = code;
        body["denominator"] = found;
        using var response = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "numerator"));
        Assert.Equal(etag, (await _kit.GetAsync(code)).ETag);
    }

    [Theory]
    [InlineData("monthly", "2024-Q4")]
    [InlineData("monthly", "2024")]
    [InlineData("monthly", "2024-13")]
    [InlineData("quarterly", "2024-12")]
    [InlineData("quarterly", "2024-Q5")]
    [InlineData("yearly", "2024-12")]
    public async Task A_baseline_period_not_of_the_indicators_frequency_is_refused_naming_baselinePeriod(string frequency, string period)
    {
        var body = IndicatorKit.Body(frequency: frequency);
        body["baselineValue"] = 100m;
        body["baselinePeriod"] = period;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "baselinePeriod"));
    }

    [Theory]
    [InlineData("monthly", "2024-12")]
    [InlineData("quarterly", "2024-Q4")]
    [InlineData("yearly", "2024")]
    public async Task A_baseline_period_of_the_indicators_frequency_is_accepted(string frequency, string period)
    {
        var body = IndicatorKit.Body(frequency: frequency);
        body["baselineValue"] = 100m;
        body["baselinePeriod"] = period;
        var (_, _, created) = await _kit.CreateAsync(body);
        Assert.Equal(period, created["baselinePeriod"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_baseline_value_and_period_go_together(bool valueOnly)
    {
        var body = IndicatorKit.Body();
        if (valueOnly) body["baselineValue"] = 100m;
        else body["baselinePeriod"] = "2024-12";
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "baselinePeriod"));
    }

    [Fact]
    public async Task An_unknown_reporter_unit_is_unprocessable_naming_reporters_and_the_unit()
    {
        await _kit.RegionsAsync();
        var body = IndicatorKit.Body();
        body["reporters"] = new[] { "460100", "469999" };
        var problem = await RefusedAsync(body, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "reporters"));
        Assert.Contains("469999", problem["detail"]!.GetValue<string>());
        Assert.DoesNotContain("460100", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_empty_reporter_code_is_refused_naming_reporters()
    {
        await _kit.RegionsAsync();
        var body = IndicatorKit.Body();
        body["reporters"] = new[] { "460100", " " };
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "reporters"));
    }

    [Fact]
    public async Task An_unknown_issue_is_unprocessable_naming_issues()
    {
        var body = IndicatorKit.Body();
        body["issues"] = new[] { 987654321L };
        var problem = await RefusedAsync(body, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "issues"));
        Assert.Contains("987654321", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_measure_is_unprocessable_naming_measures()
    {
        var body = IndicatorKit.Body();
        body["measures"] = new[] { 987654321L };
        var problem = await RefusedAsync(body, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(IndicatorKit.Error(problem, "measures"));
    }

    [Fact]
    public async Task Duplicate_links_are_stored_once()
    {
        await _kit.RegionsAsync();
        var body = IndicatorKit.Body();
        body["reporters"] = new[] { "460100", "460100", "460000" };
        var (_, _, created) = await _kit.CreateAsync(body);
        Assert.Equal(["460000", "460100"], IndicatorKit.Strings(created["reporters"]));
    }

    [Fact]
    public async Task An_update_is_validated_like_a_create_and_changes_nothing_when_refused()
    {
        var (code, etag, created) = await _kit.CreateAsync(IndicatorKit.Body());
        var body = IndicatorKit.UpdateBody(created);
        body["baselineValue"] = 1m;
        body["baselinePeriod"] = "2024-Q4";
        using (var response = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag))
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
            Assert.NotNull(IndicatorKit.Error(problem, "baselinePeriod"));
        }

        body = IndicatorKit.UpdateBody(created);
        body["issues"] = new[] { 987654321L };
        using (var response = await Client.PutJsonAsync($"/api/v1/indicators/{code}", body, etag))
        {
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
            Assert.NotNull(IndicatorKit.Error(problem, "issues"));
        }
        Assert.Equal(etag, (await _kit.GetAsync(code)).ETag);
    }

    [Theory]
    [InlineData("createdAt", "2025-01-01T00:00:00Z")]
    [InlineData("id", 1)]
    [InlineData("version", 3)]
    public async Task A_field_the_server_owns_is_refused(string field, object value)
    {
        var body = IndicatorKit.Body();
        body[field] = value;
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task A_number_sent_as_a_string_is_refused()
    {
        var body = IndicatorKit.Body();
        body["targetValue"] = "100";
        var problem = await RefusedAsync(body, HttpStatusCode.BadRequest, "malformed-request");
        Assert.NotNull(problem["errors"]!["targetValue"]);
    }
}
