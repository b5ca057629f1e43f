using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Measures;

/// <summary>Every change to a measure writes exactly one journal row (entity 'measure'); a refused change writes none.</summary>
public sealed class MeasureJournalTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly MeasureApi _api = new(app);
    HttpClient Client => _api.Client;

    async Task<JsonNode> LastJournalAsync(long id, string column)
        => JsonNode.Parse(await app.ScalarAsync<string>(
            $"SELECT {column}::text FROM journal WHERE entity = 'measure' AND entity_id = @id ORDER BY id DESC LIMIT 1",
            new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }))!;

    Task<string> LastActionAsync(long id)
        => app.ScalarAsync<string>("SELECT action FROM journal WHERE entity = 'measure' AND entity_id = @id ORDER BY id DESC LIMIT 1",
            new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    [Fact]
    public async Task Create_update_progress_and_evidence_each_write_one_journal_row()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, created) = await _api.CreateAsync(issueId);
        Assert.Equal(1, await _api.JournalRowsAsync(id));
        Assert.Equal("create", await LastActionAsync(id));
        Assert.Equal(RectifyApp.ClientName, await app.ScalarAsync<string>(
            "SELECT actor FROM journal WHERE entity = 'measure' AND entity_id = @id", new { id = id.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        Assert.Equal(created["code"]!.GetValue<string>(), (await LastJournalAsync(id, "after"))["code"]!.GetValue<string>());

        await _api.MoveToAsync(id, "in_progress");
        Assert.Equal(2, await _api.JournalRowsAsync(id));
        Assert.Equal("update", await LastActionAsync(id));
        Assert.Equal("planned", (await LastJournalAsync(id, "before"))["state"]!.GetValue<string>());
        Assert.Equal("in_progress", (await LastJournalAsync(id, "after"))["state"]!.GetValue<string>());

        await _api.AddProgressAsync(id, "2025-06-10", 45);
        Assert.Equal(3, await _api.JournalRowsAsync(id));
        Assert.Equal("progress", await LastActionAsync(id));
        Assert.Equal(0m, (await LastJournalAsync(id, "before"))["progress"]!.GetValue<decimal>());
        Assert.Equal(45m, (await LastJournalAsync(id, "after"))["progress"]!.GetValue<decimal>());

        using (var evidence = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title = "海南省公墓管理办法" }))
        {
            await evidence.ShouldBeAsync(HttpStatusCode.Created);
        }
        Assert.Equal(4, await _api.JournalRowsAsync(id));
        Assert.Equal("evidence", await LastActionAsync(id));
        Assert.Equal("海南省公墓管理办法", (await LastJournalAsync(id, "after"))["title"]!.GetValue<string>());

        Assert.Equal(1, await _api.JournalRowsAsync(id, "create"));
        Assert.Equal(1, await _api.JournalRowsAsync(id, "update"));
        Assert.Equal(1, await _api.JournalRowsAsync(id, "progress"));
        Assert.Equal(1, await _api.JournalRowsAsync(id, "evidence"));
    }

    [Fact]
    public async Task Refused_changes_write_no_journal_row_and_leave_the_etag_unchanged()
    {
        var (issueId, _) = await _api.IssueAsync();
        var (id, _, _) = await _api.CreateAsync(issueId);
        await _api.AddProgressAsync(id, "2025-06-10", 50);
        using (var first = await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title = "海南省公墓管理办法" }))
        {
            await first.ShouldBeAsync(HttpStatusCode.Created);
        }
        var (measure, etag) = await _api.GetAsync(id);
        var journal = await _api.JournalRowsAsync(id);
        var total = await app.ScalarAsync<long>("SELECT count(*) FROM journal");

        async Task RefusedAsync(HttpResponseMessage response, HttpStatusCode status, string type)
        {
            using (response) await response.ShouldBeProblemAsync(status, type);
            Assert.Equal(journal, await _api.JournalRowsAsync(id));
            Assert.Equal(etag, (await _api.GetAsync(id)).ETag);
        }

        await RefusedAsync(await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "planned"), etag),
            HttpStatusCode.Conflict, "invalid-transition");
        await RefusedAsync(await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "done"), "\"1\""),
            HttpStatusCode.PreconditionFailed, "precondition-failed");
        await RefusedAsync(await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "done"), ifMatch: null),
            HttpStatusCode.PreconditionRequired, "precondition-required");
        await RefusedAsync(await Client.PutJsonAsync($"/api/v1/measures/{id}", MeasureApi.UpdateBody(measure, "cancelled"), etag),
            HttpStatusCode.BadRequest, "validation");
        var unknownOwner = MeasureApi.UpdateBody(measure, "in_progress");
        unknownOwner["ownerUnit"] = "NO-SUCH-UNIT";
        await RefusedAsync(await Client.PutJsonAsync($"/api/v1/measures/{id}", unknownOwner, etag),
            HttpStatusCode.UnprocessableEntity, "validation");
        await RefusedAsync(await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-12", percent = 40 }),
            HttpStatusCode.UnprocessableEntity, "validation");
        await RefusedAsync(await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-16", percent = 60 }),
            HttpStatusCode.BadRequest, "validation");
        await RefusedAsync(await Client.PostJsonAsync($"/api/v1/measures/{id}/progress", new { reportedOn = "2025-06-12", percent = 60 }, ifMatch: "\"1\""),
            HttpStatusCode.PreconditionFailed, "precondition-failed");
        await RefusedAsync(await Client.PostJsonAsync($"/api/v1/measures/{id}/evidence", new { title = "海南省公墓管理办法" }),
            HttpStatusCode.Conflict, "conflict");

        Assert.Equal(total, await app.ScalarAsync<long>("SELECT count(*) FROM journal"));
    }

    [Fact]
    public async Task A_refused_create_writes_no_journal_row()
    {
        var (issueId, _) = await _api.IssueAsync();
        await _api.CreateAsync(issueId, code: "1.1");
        var total = await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'measure'");

        using var duplicate = await Client.PostJsonAsync("/api/v1/measures", MeasureApi.CreateBody(issueId, code: "1.1"));
        await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        using var unknownOwner = await Client.PostJsonAsync("/api/v1/measures", MeasureApi.CreateBody(issueId, owner: "NO-SUCH-UNIT"));
        await unknownOwner.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");

        Assert.Equal(total, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE entity = 'measure'"));
    }
}
