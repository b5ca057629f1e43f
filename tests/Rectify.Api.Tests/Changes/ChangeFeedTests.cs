using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Changes;

/// <summary>
/// The change feed: nothing skipped when transactions commit out of order, and a consumer that replays it from the
/// start holds exactly what the database holds.
/// </summary>
public sealed class ChangeFeedTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly ChangeKit _kit = new(app);
    readonly ImportKit _import = new(app);

    [Fact]
    public async Task A_transaction_that_commits_after_a_later_one_is_not_skipped_by_a_follower()
    {
        await _import.Seed.UnitsAsync();
        var (_, cursor) = await _kit.FollowAsync(null);

        // T1 takes its transaction id and writes first, but commits last.
        await using var slow = new NpgsqlConnection(app.ConnectionString);
        await slow.OpenAsync(Ct);
        await using var t1 = await slow.BeginTransactionAsync(Ct);
        var early = Seed.Unique("R-EARLY");
        await slow.ExecuteAsync(new CommandDefinition("""
            INSERT INTO rounds (code, name, inspected_unit_code, inspection_body, inspection_start, inspection_end, state)
            VALUES (@early, '较早开始的轮次', 'HNMZT', '巡视组', '2024-09-01', '2024-12-31', 'planned')
            """, new { early }, t1, cancellationToken: Ct));

        // T2 starts later and commits first, through the API.
        var late = await _import.Seed.RoundAsync(Seed.Unique("R-LATE"));

        // The follower reads while T1 is still open: T2's change is held back (T1 might still land before it).
        var (whileOpen, during) = await _kit.FollowAsync(cursor);
        Assert.DoesNotContain(whileOpen, i => i["type"]!.GetValue<string>() == "round");

        await t1.CommitAsync(Ct);
        var (after, _) = await _kit.FollowUntilAsync(during, seen => ChangeKit.HasKey(seen, "round", "code", late));
        var rounds = after.Where(i => i["type"]!.GetValue<string>() == "round").Select(i => i["key"]!["code"]!.GetValue<string>()).ToList();
        Assert.Equal([early, late], rounds); // both, once each, in commit-safe order
    }

    [Fact]
    public async Task A_consumer_replaying_the_feed_from_the_start_holds_what_the_database_holds()
    {
        var round = await _import.Seed.RoundAsync();
        var issue = (await _import.Seed.IssueAsync(round))["id"]!.GetValue<long>();
        var measure = (await _import.Seed.MeasureAsync(issue))["id"]!.GetValue<long>();
        using (var moved =
            await _kit.Client.PostJsonAsync($"/api/v1/measures/{measure}/progress", new { reportedOn = "2025-06-01", percent = 40, note = "推进中" }))
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync(Ct));
        var indicator = await _import.IndicatorAsync();
        var gone = await _import.IndicatorAsync();
        using (var read = await _kit.Client.GetAsync($"/api/v1/indicators/{gone}", Ct))
        using (var deleted = await _kit.Client.SendRawAsync(HttpMethod.Delete, $"/api/v1/indicators/{gone}", "", ifMatch: read.ETag()))
            Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync(Ct));
        await ImportKit.AppliedAsync(await _import.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-04,1,", $"{indicator},460100,2025-04,2,",
            $"{indicator},460105,2025-04,3,"])));
        await ImportKit.AppliedAsync(await _import.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-04,10,更正"])));
        await ImportKit.AppliedAsync(await _import.PushCsvAsync(ImportKit.Csv([$"{indicator},460105,2025-04,3,"]), "strategy=delete"));

        var (items, _) = await _kit.FollowUntilAsync(null, seen => seen.Any(i => i["type"]!.GetValue<string>() == "data-value"
            && i["operation"]!.GetValue<string>() == "deleted" && i["key"]!["unit"]!.GetValue<string>() == "460105"), limit: 3);
        var copy = ChangeKit.Replay(items);

        Assert.Equal(items.Count, items.Select(i => i["id"] + "@" + i["occurredAt"] + i["operation"]).Count()); // each change once
        await AssertSameAsync(copy, "round", "SELECT id::text, code FROM rounds", "code");
        await AssertSameAsync(copy, "issue", "SELECT id::text, state FROM issues", "state");
        await AssertSameAsync(copy, "measure", "SELECT id::text, progress::text FROM measures", "progress");
        await AssertSameAsync(copy, "progress", "SELECT id::text, note FROM measure_progress", "note");
        await AssertSameAsync(copy, "indicator", "SELECT id::text, code FROM indicators", "code");
        await AssertSameAsync(copy, "data-value",
            "SELECT i.code || '/' || d.unit_code || '/' || d.period, d.value::text FROM data_values d JOIN indicators i ON i.id = d.indicator_id",
                "value");
        Assert.DoesNotContain(copy.Keys, k => k.Type == "indicator" && copy[k]["code"]!.GetValue<string>() == gone);
        Assert.Contains(items, i => i["type"]!.GetValue<string>() == "data-value" && i["operation"]!.GetValue<string>() == "deleted"
            && i["key"]!["unit"]!.GetValue<string>() == "460105");
    }

    [Fact]
    public async Task A_value_rewritten_by_a_push_or_by_hand_is_a_change_after_the_cursor_its_follower_held()
    {
        var indicator = await _import.IndicatorAsync();
        await ImportKit.AppliedAsync(await _import.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-04,1,"])));
        var (_, cursor) = await _kit.FollowUntilAsync(null, seen => ValueSeen(seen, indicator, "1"), types: "data-value");

        // The push's merge stamps its rows with its transaction itself; the row trigger skips an update that does (migration 0022).
        await ImportKit.AppliedAsync(await _import.PushCsvAsync(ImportKit.Csv([$"{indicator},460000,2025-04,2,"])));
        var (pushed, next) = await _kit.FollowUntilAsync(cursor, seen => ValueSeen(seen, indicator, "2"), types: "data-value");
        Assert.Equal("2", Assert.Single(pushed, i => Of(i, indicator))["entity"]!["value"]!.ToJsonString());

        // Any other writer of data_values is stamped by the trigger, as before.
        await using (var connection = new NpgsqlConnection(app.ConnectionString))
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE data_values SET value = 3, updated_at = now()
                WHERE indicator_id = (SELECT id FROM indicators WHERE code = @indicator) AND unit_code = '460000' AND period = '2025-04'
                """, new { indicator }, cancellationToken: Ct));
        var (byHand, _) = await _kit.FollowUntilAsync(next, seen => ValueSeen(seen, indicator, "3"), types: "data-value");
        Assert.Equal("3", Assert.Single(byHand, i => Of(i, indicator))["entity"]!["value"]!.ToJsonString());
    }

    static bool Of(JsonNode item, string indicator) => item["key"]!["indicator"]!.GetValue<string>() == indicator;

    static bool ValueSeen(IEnumerable<JsonNode> items, string indicator, string value)
        => items.Any(i => Of(i, indicator) && i["entity"]?["value"]?.ToJsonString() == value);

    async Task AssertSameAsync(Dictionary<(string Type, string Id), JsonNode> copy, string type, string sql, string field)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        var rows = (await connection.QueryAsync<(string Id, string? Value)>(new CommandDefinition(sql, cancellationToken: Ct)))
            .ToDictionary(r => r.Id, r => r.Value);
        var held = copy.Where(c => c.Key.Type == type).ToDictionary(c => c.Key.Id, c => Text(c.Value[field]));
        Assert.Equal(rows.OrderBy(r => r.Key), held.OrderBy(r => r.Key));
    }

    static string? Text(JsonNode? node) =>
        node is null ? null : node.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();

    [Fact]
    public async Task Each_change_names_its_caller_and_carries_the_entity_as_it_is_now()
    {
        var (_, cursor) = await _kit.FollowAsync(null);
        var round = await _import.Seed.RoundAsync();
        // A round of another test of this class may show only now, if a transaction elsewhere held it back when that test read.
        var (items, _) = await _kit.FollowUntilAsync(cursor, seen => ChangeKit.HasKey(seen, "round", "code", round), types: "round");
        var created = Assert.Single(items, i => i["key"]!["code"]!.GetValue<string>() == round);
        Assert.Equal("created", created["operation"]!.GetValue<string>());
        Assert.Equal(RectifyApp.ClientName, created["caller"]!.GetValue<string>());
        Assert.Equal(round, created["entity"]!["code"]!.GetValue<string>());
        Assert.Equal("HNMZT", created["entity"]!["inspectedUnitCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_type_or_a_forged_cursor_is_a_400()
    {
        using (var types = await _kit.Client.GetAsync("/api/v1/changes?types=issue,planet", Ct))
            await types.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        using (var cursor = await _kit.Client.GetAsync("/api/v1/changes?after=bm90LWEtY3Vyc29y", Ct))
            await cursor.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
    }
}
