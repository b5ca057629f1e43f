using System.Net;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.DataValues;
using Rectify.Api.Tests.Infrastructure;
using Rectify.Api.Tests.Snapshots;

namespace Rectify.Api.Tests.Journal;

/// <summary>
/// The journal's entity filter takes every kind of entity the journal holds, not only rounds, issues and measures, and
/// the document names them all (one enum, used by the filter and the entries).
/// </summary>
public sealed class JournalEntityTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static readonly string[] Entities =
        ["round", "issue", "measure", "indicator", "data-values", "snapshot", "client", "demo-data", "webhook-subscription"];

    readonly HttpClient _client = app.Client();

    static IReadOnlyList<JsonNode> Items(JsonNode page) => [.. page["items"]!.AsArray().Select(i => i!)];

    [Fact]
    public async Task The_filter_finds_the_entries_of_clients_indicators_pushes_and_snapshots()
    {
        var snapshots = new SnapshotKit(app);
        var round = await snapshots.RoundAsync(); // a round with issues, measures and an indicator
        await snapshots.PushOkAsync(round, "2025-04", new { narrative = "4月进展" });
        var pushes = new ImportKit(app);
        var indicator = await pushes.IndicatorAsync();
        await ImportKit.AppliedAsync(await pushes.PushJsonAsync(new object[] { new { indicator, unit = "460000", period = "2025-05",
            value = 8520m } }));
        var name = Seed.Unique("journal-client");
        using (var created = await _client.PostJsonAsync("/api/v1/clients", new { name, scopes = new[] { "read" } }))
            await created.ShouldBeAsync(HttpStatusCode.Created);

        var byClient = Items(await _client.GetJsonAsync("/api/v1/journal?entity=client&limit=200"));
        Assert.Contains(byClient, e => e["action"]!.GetValue<string>() == "create" && e["after"]!["name"]!.GetValue<string>() == name);
        var byIndicator = Items(await _client.GetJsonAsync($"/api/v1/journal?entity=indicator&entityId={indicator}"));
        Assert.Equal("create", Assert.Single(byIndicator)["action"]!.GetValue<string>());
        var bySnapshot = Items(await _client.GetJsonAsync($"/api/v1/journal?entity=snapshot&entityId={round.Code}/2025-04"));
        Assert.NotEmpty(bySnapshot);
        var byPush = Items(await _client.GetJsonAsync("/api/v1/journal?entity=data-values&limit=200"));
        Assert.Contains(byPush, e => e["action"]!.GetValue<string>() == "import");

        foreach (var (entity, entries) in new[] { ("client", byClient), ("indicator", byIndicator), ("snapshot", bySnapshot),
            ("data-values", byPush) })
            Assert.All(entries, e => Assert.Equal(entity, e["entity"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_entity_the_journal_does_not_hold_is_a_400_listing_the_ones_it_does()
    {
        using var response = await _client.GetAsync("/api/v1/journal?entity=superuser", TestContext.Current.CancellationToken);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
        var message = problem["errors"]!["entity"]![0]!.GetValue<string>();
        Assert.All(Entities, entity => Assert.Contains(entity, message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_document_names_every_entity_for_the_filter_and_the_entries()
    {
        var document = await _client.GetJsonAsync("/openapi/v1.json");
        var schemas = document["components"]!["schemas"]!;
        Assert.Equal(Entities.Order(StringComparer.Ordinal),
            schemas["JournalEntity"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).Order(StringComparer.Ordinal));
        var filter = document["paths"]!["/api/v1/journal"]!["get"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "entity")!;
        Assert.Equal("#/components/schemas/JournalEntity", filter["schema"]!["$ref"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/JournalEntity", schemas["JournalEntryResponse"]!["properties"]!["entity"]!["$ref"]!.GetValue<string>());
    }
}

/// <summary>The demo data's load is journalled as entity demo-data, and the filter finds it.</summary>
public sealed class JournalDemoDataEntityTests(RectifyAppWithDemoData app) : IClassFixture<RectifyAppWithDemoData>
{
    [Fact]
    public async Task The_filter_finds_the_demo_data_load()
    {
        var entries = (await app.Client().GetJsonAsync("/api/v1/journal?entity=demo-data"))["items"]!.AsArray();
        var load = Assert.Single(entries)!;
        Assert.Equal("demo-data", load["entity"]!.GetValue<string>());
        Assert.Equal("HN-8-6-6", load["entityId"]!.GetValue<string>());
        Assert.Equal("load", load["action"]!.GetValue<string>());
    }
}
