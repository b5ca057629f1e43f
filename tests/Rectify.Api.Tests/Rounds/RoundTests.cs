using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Rounds;

public sealed class RoundTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();
    readonly Seed _seed = new(app);

    [Fact]
    public async Task A_created_round_reads_back_with_an_etag_and_a_location()
    {
        await _seed.UnitsAsync();
        using var created = await _client.PostJsonAsync("/api/v1/rounds", new
        {
            code = "HN-8-6-6", name = "八届省委第六轮巡视（第六巡视组）对省民政厅党组的巡视", inspectedUnit = "HNMZT",
            inspectionBody = "八届省委第六轮巡视第六巡视组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31",
            feedbackDate = "2025-02-28", state = "rectifying",
        });
        var body = await created.ShouldBeAsync(HttpStatusCode.Created);
        Assert.Equal("/api/v1/rounds/HN-8-6-6", created.Headers.Location?.ToString());
        Assert.Equal("八届省委第六轮巡视第六巡视组", body["inspectionBody"]!.GetValue<string>());
        Assert.Equal("2025-02-28", body["feedbackDate"]!.GetValue<string>());

        using var read = await _client.GetAsync("/api/v1/rounds/HN-8-6-6", TestContext.Current.CancellationToken);
        var round = await read.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("rectifying", round["state"]!.GetValue<string>());
        Assert.Equal("\"1\"", read.ETag());
    }

    [Fact]
    public async Task Updating_a_round_needs_the_current_etag()
    {
        var code = await _seed.RoundAsync();
        using var read = await _client.GetAsync($"/api/v1/rounds/{code}", TestContext.Current.CancellationToken);
        var etag = read.ETag();
        var update = new
        {
            name = "改名", inspectedUnit = "HNMZT", inspectionBody = "第六巡视组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31",
            state = "consolidating",
        };

        using var missing = await _client.PutJsonAsync($"/api/v1/rounds/{code}", update, ifMatch: null);
        await missing.ShouldBeProblemAsync(HttpStatusCode.PreconditionRequired, "precondition-required");

        using var ok = await _client.PutJsonAsync($"/api/v1/rounds/{code}", update, etag);
        var updated = await ok.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("consolidating", updated["state"]!.GetValue<string>());
        Assert.NotEqual(etag, ok.ETag());

        using var stale = await _client.PutJsonAsync($"/api/v1/rounds/{code}", update, etag);
        await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
    }

    [Fact]
    public async Task A_duplicate_code_is_a_conflict_and_an_unknown_unit_is_unprocessable()
    {
        var code = await _seed.RoundAsync();
        var body = new
        {
            code, name = "重复", inspectedUnit = "HNMZT", inspectionBody = "组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31",
                state = "planned",
        };
        using var duplicate = await _client.PostJsonAsync("/api/v1/rounds", body);
        await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");

        using var unknownUnit = await _client.PostJsonAsync("/api/v1/rounds", body with { code = Seed.Unique("R"), inspectedUnit = "NOPE" });
        var problem = await unknownUnit.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Contains("inspected unit", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Inconsistent_dates_and_bad_codes_are_refused_naming_the_field()
    {
        await _seed.UnitsAsync();
        using var badDates = await _client.PostJsonAsync("/api/v1/rounds", new
        {
            code = Seed.Unique("R"), name = "x", inspectedUnit = "HNMZT", inspectionBody = "组", inspectionStart = "2024-12-31",
                inspectionEnd = "2024-09-01", state = "planned",
        });
        await badDates.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");

        using var badCode = await _client.PostJsonAsync("/api/v1/rounds", new
        {
            code = "bad code!", name = "x", inspectedUnit = "HNMZT", inspectionBody = "组", inspectionStart = "2024-09-01",
                inspectionEnd = "2024-12-31", state = "planned",
        });
        var problem = await badCode.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]!["Code"] ?? problem["errors"]!["code"]);
    }

    [Fact]
    public async Task Unknown_round_is_a_not_found_problem()
    {
        using var response = await _client.GetAsync("/api/v1/rounds/NO-SUCH", TestContext.Current.CancellationToken);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
