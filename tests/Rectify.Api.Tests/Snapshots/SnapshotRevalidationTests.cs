using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>
/// A published revision never changes, so revalidating one asked for by number (If-None-Match with its tag) is answered
/// 304 from the tags this node has served, without a database command; a tag it does not hold still reads the database.
/// </summary>
public sealed class SnapshotRevalidationTests(RectifyApp app, ITestOutputHelper output) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);

    async Task<(HttpResponseMessage Response, int Commands)> RevalidateAsync(string url, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", tag);
        var (response, commands) = await CommandTrace.SendAsync(_kit.Client, request, output);
        return (response, commands.Count);
    }

    [Fact]
    public async Task A_published_revision_served_before_is_revalidated_without_the_database()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-05", new { narrative = "五月进展" });
        await _kit.PublishOkAsync(round, "2025-05");
        var url = $"{round.Url("2025-05")}?revision=1";
        string tag;
        using (var first = await _kit.Client.GetAsync(url, TestContext.Current.CancellationToken))
        {
            await first.ShouldBeAsync(HttpStatusCode.OK);
            tag = first.Headers.ETag!.ToString();
        }

        var (response, commands) = await RevalidateAsync(url, tag);

        using (response)
        {
            Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
            Assert.Equal(tag, response.Headers.ETag!.ToString());
            Assert.True(response.Headers.CacheControl is { Private: true, MaxAge.TotalDays: 365 }, response.Headers.CacheControl?.ToString());
        }
        Assert.Equal(0, commands);
    }

    [Fact]
    public async Task A_stale_tag_or_a_draft_is_read_from_the_database()
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-05", new { narrative = "五月进展" });
        var url = $"{round.Url("2025-05")}?revision=1";
        using (var draft = await _kit.Client.GetAsync(url, TestContext.Current.CancellationToken)) await draft.ShouldBeAsync(HttpStatusCode.OK);
        await _kit.PublishOkAsync(round, "2025-05");

        // The draft's tag is not the published revision's: a full answer, read from the database.
        var (stale, commands) = await RevalidateAsync(url, "\"1.1\"");
        using (stale) await stale.ShouldBeAsync(HttpStatusCode.OK);
        Assert.NotEqual(0, commands);
    }
}
