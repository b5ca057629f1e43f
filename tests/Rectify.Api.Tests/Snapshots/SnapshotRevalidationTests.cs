using System.Net;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Snapshots;

/// <summary>
/// A published revision never changes, so revalidating one asked for by number (If-None-Match with its tag) is answered
/// 304 from the tags this node has served, without a database command; a tag it does not hold still reads the database.
/// A month's latest revision, published, is answered the same way for <see cref="LatestBound"/> (the bound the README
/// states): a correction pushed through this node is seen at once, one pushed through another node within the bound.
/// </summary>
public sealed class SnapshotRevalidationTests(RectifyApp app, ITestOutputHelper output) : IClassFixture<RectifyApp>
{
    readonly SnapshotKit _kit = new(app);

    static readonly TimeSpan LatestBound = TimeSpan.FromSeconds(5);

    static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A round with its May published, and the tag of the month's latest revision as served by <paramref name="client"/>.</summary>
    async Task<(SnapshotKit.TestRound Round, string Url, string Tag)> PublishedLatestAsync(HttpClient client)
    {
        var round = await _kit.RoundAsync();
        await _kit.PushOkAsync(round, "2025-05", new { narrative = "五月进展" });
        await _kit.PublishOkAsync(round, "2025-05");
        var url = round.Url("2025-05");
        using var first = await client.GetAsync(url, Ct);
        await first.ShouldBeAsync(HttpStatusCode.OK);
        return (round, url, first.Headers.ETag!.ToString());
    }

    static async Task<HttpStatusCode> StatusAsync(HttpClient client, string url, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", tag);
        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }

    async Task<(HttpResponseMessage Response, int Commands)> RevalidateAsync(string url, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", tag);
        var (response, commands) = await CommandTrace.SendAsync(_kit.Client, request, output);
        return (response, commands.Count);
    }

    static readonly object Correction = new { narrative = "更正稿", revisionReason = "县级数据更正" };

    [Fact]
    public async Task The_latest_revision_published_is_revalidated_without_the_database()
    {
        var (_, url, tag) = await PublishedLatestAsync(_kit.Client);

        var (response, commands) = await RevalidateAsync(url, tag);

        using (response)
        {
            Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
            Assert.Equal(tag, response.Headers.ETag!.ToString());
            Assert.True(response.Headers.CacheControl is { Private: true, MaxAge.TotalSeconds: 300 }, response.Headers.CacheControl?.ToString());
        }
        Assert.Equal(0, commands);
        // After the bound the database is asked again, and still agrees.
        app.Clock.Advance(LatestBound + Margin);
        var (again, readAgain) = await RevalidateAsync(url, tag);
        using (again) Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.NotEqual(0, readAgain);
    }

    [Fact]
    public async Task A_revalidation_the_node_cannot_answer_itself_reads_the_stored_tag_not_the_content()
    {
        var (_, url, tag) = await PublishedLatestAsync(_kit.Client);
        app.Clock.Advance(LatestBound + Margin);

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", tag);
        var (response, commands) = await CommandTrace.SendAsync(_kit.Client, request, output);

        using (response)
        {
            Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
            Assert.Equal(tag, response.Headers.ETag!.ToString());
            Assert.True(response.Headers.CacheControl is { Private: true, MaxAge.TotalSeconds: 300 }, response.Headers.CacheControl?.ToString());
        }
        var statements = commands.Select(c => (c.GetTagItem("db.query.text") ?? c.GetTagItem("db.statement"))?.ToString() ?? "").ToList();
        var read = Assert.Single(statements, sql => sql.Contains("FROM snapshots", StringComparison.Ordinal));
        Assert.DoesNotContain("content", read, StringComparison.Ordinal);
        // And it is kept again: the next revalidation within the bound needs no database.
        var (again, readAgain) = await RevalidateAsync(url, tag);
        using (again) Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Equal(0, readAgain);
    }

    [Fact]
    public async Task A_correction_pushed_through_this_node_is_seen_at_once()
    {
        var (round, url, tag) = await PublishedLatestAsync(_kit.Client);
        Assert.Equal(HttpStatusCode.NotModified, await StatusAsync(_kit.Client, url, tag));

        await _kit.PushOkAsync(round, "2025-05", Correction);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(_kit.Client, url, tag));
    }

    [Fact]
    public async Task A_correction_pushed_through_another_node_is_seen_within_the_bound()
    {
        await using var other = app.SecondNode();
        await other.InitializeAsync();
        using var otherClient = other.Client();
        var (_, url, tag) = await PublishedLatestAsync(_kit.Client);
        Assert.Equal(HttpStatusCode.NotModified, await StatusAsync(_kit.Client, url, tag));

        using (var pushed = await otherClient.PutJsonAsync(url, Correction, ifMatch: null)) await pushed.ShouldBeAsync(HttpStatusCode.OK);

        // The other node knows at once; this one answers from its copy until the bound has passed, then reads the correction.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(otherClient, url, tag));
        Assert.Equal(HttpStatusCode.NotModified, await StatusAsync(_kit.Client, url, tag));
        app.Clock.Advance(LatestBound + Margin);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(_kit.Client, url, tag));
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
