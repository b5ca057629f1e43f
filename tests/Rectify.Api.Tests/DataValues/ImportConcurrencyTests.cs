using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.DataValues;

/// <summary>
/// Pushes that meet: two at once over overlapping keys end as one push or the other, never a mix; a push whose
/// sender goes away half way leaves nothing behind, and the service goes on taking pushes.
/// </summary>
public sealed class ImportConcurrencyTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    readonly ImportKit _kit = new(app);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A push of keys [from, to) of <paramref name="keys"/>, every value <paramref name="offset"/> + key index, tagged in the comment.</summary>
    static string Push(string indicator, IReadOnlyList<(string Unit, string Period)> keys, int from, int to, long offset, string tag)
        => ImportKit.Csv(Enumerable.Range(from, to - from).Select(i =>
            $"{indicator},{keys[i].Unit},{keys[i].Period},{(offset + i).ToString(CultureInfo.InvariantCulture)},{tag}"));

    [Fact]
    public async Task Two_concurrent_pushes_over_overlapping_keys_end_as_one_or_the_other_never_a_mix()
    {
        var indicator = await _kit.IndicatorAsync();
        var units = await _kit.ManyUnitsAsync("CC", 300);
        var keys = units.SelectMany(u => Enumerable.Range(1, 10).Select(m => (Unit: u, Period: $"2025-{m:D2}"))).ToList(); // 3,000 keys
        var journal = await _kit.PushJournalCountAsync();

        // Round 1 inserts (A: keys 0–1999, B: keys 1000–2999); round 2 rewrites the same keys with new values.
        for (var round = 1; round <= 2; round++)
        {
            var a = Push(indicator, keys, 0, 2000, round * 1_000_000L, $"A{round}");
            var b = Push(indicator, keys, 1000, 3000, round * 1_000_000L + 500_000, $"B{round}");
            using var clientA = app.Client();
            using var clientB = app.Client();
            var responses = await Task.WhenAll(
                _kit.PushBytesAsync(Encoding.UTF8.GetBytes(a), "text/csv", client: clientA),
                _kit.PushBytesAsync(Encoding.UTF8.GetBytes(b), "text/csv", client: clientB));

            var applied = new Dictionary<string, JsonNode>();
            foreach (var (response, tag) in responses.Zip(new[] { $"A{round}", $"B{round}" }))
            {
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    // Cleanly told to retry: a problem with Retry-After, and (checked below) nothing of it written.
                    Assert.NotNull(response.Headers.RetryAfter);
                    await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
                    response.Dispose();
                }
                else
                {
                    applied[tag] = await ImportKit.AppliedAsync(response);
                }
            }
            Assert.NotEmpty(applied);

            var values = (await _kit.ValuesAsync(indicator)).ToDictionary(v => (v.Unit, v.Period));
            var overlap = Enumerable.Range(1000, 1000).Select(i => values[keys[i]].Comment).Distinct().ToList();
            var winner = Assert.Single(overlap); // never a mix within the overlapping keys
            Assert.Contains(winner!, applied.Keys);
            for (var i = 0; i < keys.Count; i++)
            {
                var value = values[keys[i]];
                var expected = i is >= 1000 and < 2000 ? winner : i < 1000 ? $"A{round}" : $"B{round}";
                if (!applied.ContainsKey(expected!)) continue; // a push told to retry: its own keys keep the previous round's values
                Assert.Equal(expected, value.Comment);
                Assert.Equal(round * 1_000_000L + (expected!.StartsWith('B') ? 500_000 : 0) + i, value.Value);
            }

            if (applied.Count == 2)
            {
                // Applied one after the other: the loser went first and saw none of the winner's rows.
                var first = applied[winner == $"A{round}" ? $"B{round}" : $"A{round}"];
                var second = applied[winner!];
                if (round == 1)
                {
                    ImportKit.Counts(first, received: 2000, inserted: 2000);
                    ImportKit.Counts(second, received: 2000, inserted: 1000, updated: 1000);
                }
                else
                {
                    ImportKit.Counts(first, received: 2000, updated: 2000);
                    ImportKit.Counts(second, received: 2000, updated: 2000);
                }
            }
            journal += applied.Count;
            Assert.Equal(journal, await _kit.PushJournalCountAsync());
        }
    }

    /// <summary>
    /// A sender that dies half way: it sends <paramref name="head"/>, the server reads it and waits for more, then the
    /// connection goes (the request is cancelled, which the server sees as an aborted body).
    /// Two traps of the in-memory test server are avoided here: the factory's default client buffers a request body
    /// whole before sending it (to replay it on redirects), so the server's own client is used; and a request body
    /// that throws, rather than being cancelled, leaves TestHost 10.0 unable to serve any later request.
    /// </summary>
    sealed class HalfBody : HttpContent
    {
        readonly byte[] _head;
        readonly CancellationTokenSource _disconnect;

        public HalfBody(byte[] head, string contentType, CancellationTokenSource disconnect)
        {
            (_head, _disconnect) = (head, disconnect);
            Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_head);
            await stream.FlushAsync();
            _disconnect.CancelAfter(TimeSpan.FromMilliseconds(300));
            await Task.Delay(Timeout.Infinite, _disconnect.Token);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// The first part of a push of 10,000 rows: 5,000 whole rows (which would land if the cut were taken for the end
    /// of the body, or if rows were committed in batches as they arrive), then part of the next row when not <paramref name="atRowBoundary"/>.
    /// </summary>
    static byte[] Head(string indicator, string format, bool atRowBoundary)
    {
        var rows = Enumerable.Range(0, 10_000).Select(i => (Unit: i % 2 == 0 ? "460000" : "460100", Period: $"{1900 + i / 24:D4}-{i / 2 % 12 + 1:D2}", Value: i)).ToList();
        string text;
        if (format == "text/csv")
        {
            text = ImportKit.Csv(rows.Select(r => $"{indicator},{r.Unit},{r.Period},{r.Value},"));
            var cut = text.IndexOf($",{rows[5000].Period},{rows[5000].Value},", StringComparison.Ordinal);
            text = atRowBoundary ? text[..(text.LastIndexOf('\n', cut) + 1)] : text[..(cut + 5)];
        }
        else
        {
            text = "[" + string.Join(",", rows.Select(r => $$"""{"indicator":"{{indicator}}","unit":"{{r.Unit}}","period":"{{r.Period}}","value":{{r.Value}}}"""));
            var cut = text.IndexOf($"\"{rows[5000].Period}\",\"value\":{rows[5000].Value}}}", StringComparison.Ordinal);
            text = atRowBoundary ? text[..(text.LastIndexOf(",{", cut, StringComparison.Ordinal) + 1)] : text[..(cut + 4)];
        }
        return Encoding.UTF8.GetBytes(text);
    }

    [Theory]
    [InlineData("text/csv", true)]
    [InlineData("text/csv", false)]
    [InlineData("application/json", true)]
    [InlineData("application/json", false)]
    public async Task A_push_whose_sender_disconnects_mid_body_writes_nothing_and_the_next_push_is_served(string format, bool atRowBoundary)
    {
        var indicator = await _kit.IndicatorAsync();
        var journal = await _kit.PushJournalCountAsync();
        using var disconnect = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var request = new HttpRequestMessage(HttpMethod.Post, ImportKit.ImportUrl + "?atomic=false")
        {
            Content = new HalfBody(Head(indicator, format, atRowBoundary), format, disconnect),
        };
        using var client = app.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", app.ApiKey);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(request, disconnect.Token));

        Assert.Equal(0L, await _kit.CountAsync(indicator));
        Assert.Equal(journal, await _kit.PushJournalCountAsync());
        var next = await ImportKit.AppliedAsync(await _kit.PushCsvAsync(ImportKit.Csv([$"{indicator},460105,2025-09,1,"])));
        ImportKit.Counts(next, received: 1, inserted: 1);
        // Checked again once the next push is through, in case the cut push were still being applied.
        Assert.Equal(["460105"], (await _kit.ValuesAsync(indicator)).Select(v => v.Unit));
        Assert.Equal(journal + 1, await _kit.PushJournalCountAsync());
    }
}
