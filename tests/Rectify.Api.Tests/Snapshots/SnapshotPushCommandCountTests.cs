using System.Net;
using System.Net.Http.Json;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>
/// A snapshot push applies its progress lines set-based: the database commands of one push (see <see cref="CommandTrace"/>)
/// are the same for 1 and for 50 progress lines.
/// </summary>
public sealed class SnapshotPushCommandCountTests(RectifyApp app, ITestOutputHelper output) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);

    /// <summary>A round of the kit's with <paramref name="count"/> measures (planned, at 0%), their ids in order.</summary>
    async Task<(SnapshotKit.TestRound Round, long[] Measures)> RoundWithMeasuresAsync(int count)
    {
        var round = await _kit.RoundAsync();
        await app.ScalarAsync<int>("""
            INSERT INTO measures (issue_id, code, title, owner_unit_code, state, progress, due_date, created_at, updated_at)
            SELECT m.issue_id, '9.' || n, '措施' || n, m.owner_unit_code, 'planned', 0, DATE '2025-12-31', now(), now()
            FROM generate_series(1, @extra) n, (SELECT issue_id, owner_unit_code FROM measures WHERE id = @first) m;
            SELECT 1;
            """, new { extra = count - round.Measures.Length, first = round.Measures[0] });
        var ids = await app.ScalarAsync<long[]>("SELECT array_agg(id ORDER BY id) FROM measures WHERE issue_id IN (@a, @b)", new { a = round.IssueA, b = round.IssueB });
        return (round, ids);
    }

    async Task<int> CommandsOfPushAsync(SnapshotKit.TestRound round, long[] measures)
    {
        var lines = measures.Select((id, i) => new { measureId = id, percent = i % 2 == 0 ? 50m : 100m, note = $"第{i}项" }).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Put, round.Url("2025-04"))
        {
            Content = JsonContent.Create(new { narrative = "4月", progress = lines, values = new[] { new { indicator = round.Indicator, unit = "460000", value = 5m } } }),
        };
        var (response, commands) = await CommandTrace.SendAsync(_kit.Client, request, output);
        using (response)
        {
            var answer = await response.ShouldBeAsync(HttpStatusCode.OK);
            Assert.Equal(measures.Length, answer["progressApplied"]!.GetValue<int>());
            Assert.Equal(1, answer["valuesInserted"]!.GetValue<int>());
        }
        Assert.Equal(measures.Length, await app.ScalarAsync<long>("SELECT count(*) FROM measure_progress WHERE measure_id = ANY (@measures)", new { measures }));
        Assert.Equal(measures.Length, await app.ScalarAsync<long>(
            "SELECT count(*) FROM journal WHERE entity = 'measure' AND action = 'progress' AND entity_id = ANY (@ids)",
            new { ids = measures.Select(m => m.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray() }));
        Assert.Equal(measures.Length / 2, await app.ScalarAsync<long>(
            "SELECT count(*) FROM measures WHERE id = ANY (@measures) AND state = 'done' AND progress = 100", new { measures }));
        return commands.Count;
    }

    [Fact]
    public async Task The_commands_of_one_push_do_not_grow_from_1_to_50_progress_lines()
    {
        var (small, one) = await RoundWithMeasuresAsync(3);
        var (large, fifty) = await RoundWithMeasuresAsync(50);
        await _kit.PushOkAsync(await _kit.RoundAsync(), "2025-04", new { narrative = "预热" }); // the pool's first connection

        var atOne = await CommandsOfPushAsync(small, one[..1]);
        var atFifty = await CommandsOfPushAsync(large, fifty);

        output.WriteLine($"database commands of one snapshot push: {atOne} with 1 progress line, {atFifty} with 50");
        Assert.Equal(atOne, atFifty);
    }
}
