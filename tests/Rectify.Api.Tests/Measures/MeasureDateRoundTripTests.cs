using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>
/// Dapper 2.1 does not map DateOnly by itself; the service registers a type handler. Dates written through the API are stored
/// as those calendar dates (no time-zone shift) and read back identical, in answers and as query parameters.
/// </summary>
public sealed class MeasureDateRoundTripTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    [Theory]
    [InlineData("2024-02-29", "2025-12-31")]
    [InlineData("2025-01-01", "2025-01-01")]
    [InlineData("1999-12-31", "2099-12-31")]
    public async Task Start_and_due_dates_are_stored_and_read_back_identical(string startDate, string dueDate)
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, etag, created) = await _api.CreateAsync(issueId, dueDate, startDate);
        Assert.Equal(startDate, created["startDate"]!.GetValue<string>());
        Assert.Equal(dueDate, created["dueDate"]!.GetValue<string>());

        Assert.Equal(startDate, await app.ScalarAsync<string>("SELECT start_date::text FROM measures WHERE id = @id", new { id }));
        Assert.Equal(dueDate, await app.ScalarAsync<string>("SELECT due_date::text FROM measures WHERE id = @id", new { id }));

        var (read, _) = await _api.GetAsync(id);
        Assert.Equal(startDate, read["startDate"]!.GetValue<string>());
        Assert.Equal(dueDate, read["dueDate"]!.GetValue<string>());

        // As query parameters (DateOnly written by Dapper): an inclusive range of exactly that day finds it.
        Assert.Equal([id], await _api.ListIdsAsync($"issue={issueId}&dueAfter={dueDate}&dueBefore={dueDate}"));

        // Through an update, and in the journal.
        var body = MeasureApi.UpdateBody(read, "planned");
        using var updated = await Client.PutJsonAsync($"/api/v1/measures/{id}", body, etag);
        var after = await updated.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal(startDate, after["startDate"]!.GetValue<string>());
        Assert.Equal(dueDate, after["dueDate"]!.GetValue<string>());
        Assert.Equal(dueDate, await app.ScalarAsync<string>(
            "SELECT after->>'dueDate' FROM journal WHERE entity = 'measure' AND entity_id = @id AND action = 'update'",
            new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
    }

    [Fact]
    public async Task A_measure_without_a_start_date_reads_back_without_one()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, created) = await _api.CreateAsync(issueId, startDate: null);
        Assert.Null(created["startDate"]);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM measures WHERE id = @id AND start_date IS NULL", new { id }));
        Assert.Null((await _api.GetAsync(id)).Body["startDate"]);
    }

    [Fact]
    public async Task Reported_on_completed_on_and_issued_on_are_stored_and_read_back_identical()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId, dueDate: "2025-06-30", startDate: "2024-02-29");
        var first = await _api.AddProgressAsync(id, "2024-02-29", 30);
        var last = await _api.AddProgressAsync(id, "2025-01-01", 100);
        Assert.Equal("2024-02-29", first["reportedOn"]!.GetValue<string>());
        Assert.Equal("2025-01-01", last["reportedOn"]!.GetValue<string>());

        using (var response = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title = "海南省公墓管理办法", issuedOn = "2024-12-31" }))
        {
            var evidence = await response.ShouldBeAsync(HttpStatusCode.Created);
            Assert.Equal("2024-12-31", evidence["issuedOn"]!.GetValue<string>());
        }

        Assert.Equal("2024-02-29,2025-01-01", await app.ScalarAsync<string>(
            "SELECT string_agg(reported_on::text, ',' ORDER BY id) FROM measure_progress WHERE measure_id = @id", new { id }));
        Assert.Equal("2025-01-01", await app.ScalarAsync<string>("SELECT completed_on::text FROM measures WHERE id = @id", new { id }));
        Assert.Equal("2024-12-31", await app.ScalarAsync<string>("SELECT issued_on::text FROM measure_evidence WHERE measure_id = @id", new { id }));

        var (measure, _) = await _api.GetAsync(id);
        Assert.Equal("2025-01-01", measure["completedOn"]!.GetValue<string>());
        Assert.Equal(["2024-02-29", "2025-01-01"], measure["progressEntries"]!.AsArray().Select(e => e!["reportedOn"]!.GetValue<string>()));
        Assert.Equal("2024-12-31", measure["evidence"]![0]!["issuedOn"]!.GetValue<string>());
    }
}
