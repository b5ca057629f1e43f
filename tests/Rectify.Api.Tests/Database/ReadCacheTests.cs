using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Tests.Access;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Database;

/// <summary>
/// Repeated reads are answered from the node's memory, and never after a change they depend on: a write through this
/// node is read back at once, a change by another node or by SQL within the notification's delay, answers are kept per
/// readable units, and nothing kept before a lost listener connection is served after it.
/// </summary>
public sealed class ReadCacheTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The read cache's lookups of <paramref name="node"/> by outcome (hit, miss, bypass), counted while the returned listener lives.</summary>
    static (MeterListener Listener, Dictionary<string, long> Outcomes) CountLookups(RectifyApp node)
    {
        var meters = node.Services.GetRequiredService<IMeterFactory>();
        var outcomes = new Dictionary<string, long>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "rectify.read_cache.lookups") l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "outcome")
                    lock (outcomes) outcomes[(string)tag.Value!] = outcomes.GetValueOrDefault((string)tag.Value!) + value;
        });
        listener.Start();
        return (listener, outcomes);
    }

    static long Count(Dictionary<string, long> outcomes, string outcome)
    {
        lock (outcomes) return outcomes.GetValueOrDefault(outcome);
    }

    async Task<long> MeasureAsync()
    {
        var seed = new Seed(app);
        var issue = await seed.IssueAsync(await seed.RoundAsync());
        return (long)(await seed.MeasureAsync((long)issue["id"]!))["id"]!;
    }

    static async Task<string> TitleAsync(HttpClient client, long measure)
        => (await client.GetJsonAsync($"/api/v1/measures/{measure}"))["title"]!.GetValue<string>();

    /// <summary>Until <paramref name="client"/> reads the measure as <paramref name="seen"/> wants; how long that took.</summary>
    static async Task<TimeSpan> SeenWithinAsync(HttpClient client, long measure, Func<JsonNode, bool> seen, TimeSpan bound)
    {
        var watch = Stopwatch.StartNew();
        while (!seen(await client.GetJsonAsync($"/api/v1/measures/{measure}")))
        {
            Assert.True(watch.Elapsed < bound, $"measure {measure} still read as before after {bound}");
            await Task.Delay(5, Ct);
        }
        return watch.Elapsed;
    }

    const string ListenerSql = """
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'rectify-api-changes' AND state = 'idle' AND pid <> @gone
        LIMIT 1
        """;

    /// <summary>
    /// Until <paramref name="node"/>'s change listener is connected (idle between its checks) on a backend other than
    /// <paramref name="gone"/>; its backend.
    /// </summary>
    static async Task<int> WaitForListenerAsync(RectifyApp node, int gone = 0)
    {
        await Faults.FaultDatabase.WaitUntilAsync(async () => await node.ScalarAsync<long>($"SELECT count(*) FROM ({ListenerSql}) l", new { gone }) > 0,
            TimeSpan.FromSeconds(10), () => "the change listener to listen");
        return await node.ScalarAsync<int>(ListenerSql, new { gone });
    }

    Task<int> WaitForListenerAsync() => WaitForListenerAsync(app);

    [Fact]
    public async Task A_repeated_read_is_answered_from_memory_and_a_write_through_this_node_is_read_back_at_once()
    {
        var measure = await MeasureAsync();
        await WaitForListenerAsync();
        var client = app.Client();
        var (listener, outcomes) = CountLookups(app);
        using (listener)
        {
            var first = await client.GetJsonAsync($"/api/v1/measures/{measure}");
            for (var i = 0; i < 29; i++) Assert.Equal(first.ToJsonString(), (await client.GetJsonAsync($"/api/v1/measures/{measure}")).ToJsonString());
            // The seeding's own notifications (a handful of transactions) may still arrive and empty the cache once each.
            Assert.True(Count(outcomes, "hit") >= 20, $"hits {Count(outcomes, "hit")}, misses {Count(outcomes, "miss")}");

            using var progress = await client.PostJsonAsync($"/api/v1/measures/{measure}/progress",
                new { reportedOn = "2025-06-10", percent = 40, note = "已完成摸底" });
            await progress.ShouldBeAsync(HttpStatusCode.Created);
            var after = await client.GetJsonAsync($"/api/v1/measures/{measure}");
            Assert.Equal(40, after["progress"]!.GetValue<decimal>());
            Assert.Equal("in_progress", after["state"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task The_end_of_the_service_s_own_work_outside_requests_forgets_what_this_node_kept()
    {
        var measure = await MeasureAsync();
        await WaitForListenerAsync();
        var client = app.Client();
        var (listener, outcomes) = CountLookups(app);
        using (listener)
        {
            // Until a read is answered from memory (the seeding's own notifications may still empty the cache).
            await Faults.FaultDatabase.WaitUntilAsync(async () =>
            {
                var hits = Count(outcomes, "hit");
                await TitleAsync(client, measure);
                return Count(outcomes, "hit") > hits;
            }, TimeSpan.FromSeconds(10), () => "a read answered from memory");

            // Nothing written, so nothing announced: only the scope's end can make the next read a miss.
            await using (app.Services.CreateSystemScope())
            {
            }
            var (hits, misses) = (Count(outcomes, "hit"), Count(outcomes, "miss"));
            await TitleAsync(client, measure);
            Assert.Equal((hits, misses + 1), (Count(outcomes, "hit"), Count(outcomes, "miss")));
        }
    }

    [Fact]
    public async Task A_change_made_by_SQL_or_by_another_node_is_read_within_the_notification_delay()
    {
        var measure = await MeasureAsync();
        await WaitForListenerAsync();
        var client = app.Client();
        await TitleAsync(client, measure);
        await TitleAsync(client, measure); // kept

        await app.ScalarAsync<int>("UPDATE measures SET title = '由SQL改' WHERE id = @measure RETURNING 1", new { measure });
        var bySql = await SeenWithinAsync(client, measure, m => m["title"]!.GetValue<string>() == "由SQL改", TimeSpan.FromSeconds(2));

        await using var second = app.SecondNode();
        await second.InitializeAsync();
        using (var progress = await second.Client().PostJsonAsync($"/api/v1/measures/{measure}/progress",
                   new { reportedOn = "2025-06-10", percent = 55, note = "另一节点报告" }))
            await progress.ShouldBeAsync(HttpStatusCode.Created);
        var byOtherNode = await SeenWithinAsync(client, measure, m => m["progress"]!.GetValue<decimal>() == 55, TimeSpan.FromSeconds(2));
        TestContext.Current.SendDiagnosticMessage($"read cache: a SQL change read after {bySql.TotalMilliseconds:F0} ms, another node's after "
            + $"{byOtherNode.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Answers_are_kept_per_readable_units()
    {
        // A node where reads are limited to a client's units: the answer kept for one scope is not another's.
        await using var limitedApp = new ReadScopeTests.App(app.TestCluster);
        await limitedApp.InitializeAsync();
        await WaitForListenerAsync(limitedApp);
        var seed = new Seed(limitedApp);
        var issue = await seed.IssueAsync(await seed.RoundAsync());
        var own = (long)(await seed.MeasureAsync((long)issue["id"]!))["id"]!; // owned by HNMZT.SHSW
        var all = limitedApp.Client();
        await TitleAsync(all, own);
        await TitleAsync(all, own); // kept for the caller who reads every unit
        var division = limitedApp.ClientWith(await limitedApp.CreateClientAsync(Seed.Unique("shjz"), [Scopes.Read], units: ["HNMZT.SHJZ"]));
        for (var i = 0; i < 2; i++)
            using (var refused = await division.GetAsync($"/api/v1/measures/{own}", Ct)) await refused.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        var page = await division.GetJsonAsync("/api/v1/measures");
        Assert.Empty(page["items"]!.AsArray());
        Assert.NotEmpty((await all.GetJsonAsync("/api/v1/measures"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Nothing_kept_before_the_listener_lost_its_connection_is_served_after_it()
    {
        var measure = await MeasureAsync();
        var listening = await WaitForListenerAsync();
        var client = app.Client();
        await TitleAsync(client, measure);
        await TitleAsync(client, measure); // kept

        // The listener's connection ends, and the change is made before it listens again: its notification reaches no one.
        Assert.True(await app.ScalarAsync<bool>("SELECT pg_terminate_backend(@listening)", new { listening }));
        await app.ScalarAsync<int>("UPDATE measures SET title = '监听断开时改' WHERE id = @measure RETURNING 1", new { measure });
        await WaitForListenerAsync(app, gone: listening);
        Assert.Equal("监听断开时改", await TitleAsync(client, measure));
        Assert.Equal("监听断开时改", await TitleAsync(client, measure));
    }

    [Fact]
    public async Task A_strong_read_is_never_answered_from_memory()
    {
        var measure = await MeasureAsync();
        await WaitForListenerAsync();
        var client = app.Client();
        client.DefaultRequestHeaders.Add("Consistency", "strong");
        var (listener, outcomes) = CountLookups(app);
        using (listener)
        {
            for (var i = 0; i < 3; i++) await TitleAsync(client, measure);
            Assert.Equal(0, Count(outcomes, "hit") + Count(outcomes, "miss"));
            Assert.Equal(3, Count(outcomes, "bypass"));
        }
    }
}
