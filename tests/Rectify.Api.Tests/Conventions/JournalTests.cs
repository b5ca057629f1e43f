using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Conventions;

/// <summary>The journal (审计日志): every change, who made it, when, before and after; append-only.</summary>
public sealed class JournalTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly HttpClient _client = app.Client();
    readonly Seed _seed = new(app);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static JsonArray Items(JsonNode page) => page["items"]!.AsArray();

    static string Iso(DateTimeOffset instant) =>
        Uri.EscapeDataString(instant.ToString("yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture));

    Task<long> JournalRowsAsync() => app.ScalarAsync<long>("SELECT count(*) FROM journal");

    static object RoundUpdate(string name) => new
    {
        name, inspectedUnit = "HNMZT", inspectionBody = "第六巡视组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31",
            state = "consolidating",
    };

    [Fact]
    public async Task A_create_and_an_update_are_journalled_with_the_caller_time_and_both_sides()
    {
        var at = app.Clock.GetUtcNow();
        var code = await _seed.RoundAsync();
        using var read = await _client.GetAsync($"/api/v1/rounds/{code}", Ct);
        app.Clock.Advance(TimeSpan.FromMinutes(30));
        using var update = await _client.PutJsonAsync($"/api/v1/rounds/{code}", RoundUpdate("改名后的轮次"), read.ETag());
        await update.ShouldBeAsync(HttpStatusCode.OK);

        var entries = Items(await _client.GetJsonAsync($"/api/v1/journal?entity=round&entityId={code}"));
        Assert.Equal(2, entries.Count);
        var (create, change) = (entries[0]!, entries[1]!);

        Assert.Equal("create", create["action"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, create["actor"]!.GetValue<string>());
        Assert.Equal("round", create["entity"]!.GetValue<string>());
        Assert.Equal(code, create["entityId"]!.GetValue<string>());
        Assert.Equal(at.UtcDateTime, create["occurredAt"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.EndsWith("Z", create["occurredAt"]!.GetValue<string>());
        Assert.Null(create["before"]);
        Assert.Equal("八届省委第六轮巡视", create["after"]!["name"]!.GetValue<string>());
        Assert.Equal("rectifying", create["after"]!["state"]!.GetValue<string>());

        Assert.Equal("update", change["action"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, change["actor"]!.GetValue<string>());
        Assert.Equal(at.AddMinutes(30).UtcDateTime, change["occurredAt"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.Equal("八届省委第六轮巡视", change["before"]!["name"]!.GetValue<string>());
        Assert.Equal("改名后的轮次", change["after"]!["name"]!.GetValue<string>());
        Assert.Equal("consolidating", change["after"]!["state"]!.GetValue<string>());
        Assert.True(change["id"]!.GetValue<long>() > create["id"]!.GetValue<long>());
    }

    [Fact]
    public async Task The_journal_filters_by_entity_and_entity_id()
    {
        var round = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(round);
        var id = issue["id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture);

        var issueEntries = Items(await _client.GetJsonAsync($"/api/v1/journal?entity=issue&entityId={id}"));
        var entry = Assert.Single(issueEntries)!;
        Assert.Equal("create", entry["action"]!.GetValue<string>());
        Assert.Equal(issue["code"]!.GetValue<string>(), entry["after"]!["code"]!.GetValue<string>());

        // entityId alone matches ids of any entity; with entity it is exact.
        Assert.Empty(Items(await _client.GetJsonAsync($"/api/v1/journal?entity=round&entityId={id}")));
        Assert.All(Items(await _client.GetJsonAsync("/api/v1/journal?entity=issue&limit=200")),
            e => Assert.Equal("issue", e!["entity"]!.GetValue<string>()));
        using (var unknown = await _client.GetAsync("/api/v1/journal?entity=no-such-entity", Ct))
            await unknown.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task The_journal_filters_by_actor()
    {
        await _seed.RoundAsync();
        var mine = await Exports.ExportKit.AllItemsAsync(_client, $"/api/v1/journal?actor={RectifyApp.ClientName}");
        Assert.NotEmpty(mine);
        Assert.All(mine, e => Assert.Equal(RectifyApp.ClientName, e!["actor"]!.GetValue<string>()));
        Assert.Equal(await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE actor = @actor", new { actor = RectifyApp.ClientName }),
            mine.Count);

        Assert.Empty(Items(await _client.GetJsonAsync("/api/v1/journal?actor=hainan-supervision-platform")));
        Assert.Empty(Items(await _client.GetJsonAsync("/api/v1/journal?actor=demo-data")));
    }

    [Fact]
    public async Task From_is_inclusive_and_to_is_exclusive()
    {
        var t0 = app.Clock.GetUtcNow().AddDays(30);
        app.Clock.SetUtcNow(t0);
        var a = await _seed.RoundAsync();
        app.Clock.Advance(TimeSpan.FromHours(1));
        var b = await _seed.RoundAsync();
        app.Clock.Advance(TimeSpan.FromHours(1));
        var c = await _seed.RoundAsync();

        static IEnumerable<string> Ids(JsonNode page) => Items(page).Select(e => e!["entityId"]!.GetValue<string>());

        Assert.Equal([b], Ids(await _client.GetJsonAsync($"/api/v1/journal?entity=round&from={Iso(t0.AddHours(1))}&to={Iso(t0.AddHours(2))}")));
        Assert.Equal([b, c], Ids(await _client.GetJsonAsync($"/api/v1/journal?entity=round&from={Iso(t0.AddHours(1))}")));
        Assert.Equal([a, b], Ids(await _client.GetJsonAsync($"/api/v1/journal?entity=round&from={Iso(t0)}&to={Iso(t0.AddHours(2))}")));
        Assert.Equal([a], Ids(await _client.GetJsonAsync($"/api/v1/journal?entity=round&from={Iso(t0.AddSeconds(-1))}&to={Iso(t0.AddSeconds(1))}")));

        // The same instants with a +08:00 offset (Shanghai time) select the same entries.
        var shanghai = t0.AddHours(1).ToOffset(TimeSpan.FromHours(8));
        Assert.Equal([b], Ids(await _client.GetJsonAsync($"/api/v1/journal?entity=round&from={Iso(shanghai)}&to={Iso(shanghai.AddHours(1))}")));

        // An empty range.
        Assert.Empty(Items(await _client.GetJsonAsync($"/api/v1/journal?from={Iso(t0.AddHours(3))}")));
    }

    [Fact]
    public async Task The_journal_pages_oldest_first_without_gaps_or_repeats()
    {
        var t0 = app.Clock.GetUtcNow().AddDays(60);
        app.Clock.SetUtcNow(t0);
        var codes = new List<string>();
        for (var i = 0; i < 5; i++) codes.Add(await _seed.RoundAsync());
        var window = $"entity=round&from={Iso(t0)}&to={Iso(t0.AddSeconds(1))}";

        var walked = new List<JsonNode>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page =
                await _client.GetJsonAsync($"/api/v1/journal?{window}&limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.InRange(Items(page).Count, 1, 2);
            walked.AddRange(Items(page).Select(e => e!.DeepClone()));
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(codes, walked.Select(e => e["entityId"]!.GetValue<string>()));
        var ids = walked.Select(e => e["id"]!.GetValue<long>()).ToList();
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(5, ids.Distinct().Count());
    }

    [Fact]
    public async Task A_refused_update_leaves_no_journal_entry()
    {
        var code = await _seed.RoundAsync();
        using var read = await _client.GetAsync($"/api/v1/rounds/{code}", Ct);
        var stale = read.ETag();
        using var ok = await _client.PutJsonAsync($"/api/v1/rounds/{code}", RoundUpdate("第一次修改"), stale);
        await ok.ShouldBeAsync(HttpStatusCode.OK);
        var before = await JournalRowsAsync();

        using var preconditionFailed = await _client.PutJsonAsync($"/api/v1/rounds/{code}", RoundUpdate("不应写入"), stale);
        await preconditionFailed.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition-failed");
        using var preconditionMissing = await _client.PutJsonAsync($"/api/v1/rounds/{code}", RoundUpdate("不应写入"), ifMatch: null);
        await preconditionMissing.ShouldBeProblemAsync(HttpStatusCode.PreconditionRequired, "precondition-required");
        using var notFound = await _client.PutJsonAsync("/api/v1/rounds/NO-SUCH", RoundUpdate("不应写入"), "\"1\"");
        await notFound.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");

        Assert.Equal(before, await JournalRowsAsync());
        Assert.Equal("第一次修改", (await _client.GetJsonAsync($"/api/v1/rounds/{code}"))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_refused_create_leaves_no_journal_entry()
    {
        var code = await _seed.RoundAsync();
        var issue = await _seed.IssueAsync(code, code: "1");
        var before = await JournalRowsAsync();

        using var duplicateRound = await _client.PostJsonAsync("/api/v1/rounds", new
        {
            code, name = "重复", inspectedUnit = "HNMZT", inspectionBody = "组", inspectionStart = "2024-09-01", inspectionEnd = "2024-12-31",
                state = "planned",
        });
        await duplicateRound.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        using var duplicateIssue = await _client.PostJsonAsync("/api/v1/issues", new { round = code, code = "1", title = "重复" });
        await duplicateIssue.ShouldBeProblemAsync(HttpStatusCode.Conflict, "conflict");
        using var unknownUnit = await _client.PostJsonAsync("/api/v1/issues", new { round = code, code = "2", title = "x", leadUnit = "NOPE" });
        await unknownUnit.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "validation");

        Assert.Equal(before, await JournalRowsAsync());
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM issues WHERE id = @id", new { id = issue["id"]!.GetValue<long>() }));
    }

    [Theory]
    [InlineData("UPDATE journal SET actor = 'someone-else'")]
    [InlineData("DELETE FROM journal")]
    [InlineData("TRUNCATE journal")]
    public async Task The_journal_cannot_be_rewritten(string sql)
    {
        await _seed.RoundAsync();
        var before = await JournalRowsAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => app.ScalarAsync<int>(sql + "; SELECT 1"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        Assert.Equal(before, await JournalRowsAsync());
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM journal WHERE actor = 'someone-else'"));
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2025-13-01T00:00:00Z", "to")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("cursor=garbage", "cursor")]
    public async Task Invalid_journal_queries_are_refused_naming_the_parameter(string query, string parameter)
    {
        using var response = await _client.GetAsync("/api/v1/journal?" + query, Ct);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.NotNull(problem["errors"]![parameter]);
    }

    [Fact]
    public async Task A_change_whose_journal_entry_fails_is_rolled_back_with_it()
    {
        var code = await _seed.RoundAsync();
        using var read = await _client.GetAsync($"/api/v1/rounds/{code}", Ct);
        var rows = await JournalRowsAsync();
        // The journal refuses the next round update: the change must not land without its entry.
        await app.ScalarAsync<int>($$"""
            CREATE FUNCTION refuse_round_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.entity = 'round' AND NEW.entity_id = '{{code}}' AND NEW.action = 'update' THEN RAISE EXCEPTION 'journal unavailable'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_round_update BEFORE INSERT ON journal FOR EACH ROW EXECUTE FUNCTION refuse_round_update();
            SELECT 1;
            """);
        try
        {
            using var update = await _client.PutJsonAsync($"/api/v1/rounds/{code}", RoundUpdate("不应保存的名称"), read.ETag());
            var problem = await update.ShouldBeProblemAsync(HttpStatusCode.InternalServerError, "internal");
            Assert.DoesNotContain("journal unavailable", problem.ToJsonString());
        }
        finally
        {
            await app.ScalarAsync<int>("DROP TRIGGER refuse_round_update ON journal; DROP FUNCTION refuse_round_update(); SELECT 1;");
        }

        using var after = await _client.GetAsync($"/api/v1/rounds/{code}", Ct);
        var round = await after.ShouldBeAsync(HttpStatusCode.OK);
        Assert.Equal("八届省委第六轮巡视", round["name"]!.GetValue<string>());
        Assert.Equal(read.ETag(), after.ETag());
        Assert.Equal(rows, await JournalRowsAsync());
    }
}
