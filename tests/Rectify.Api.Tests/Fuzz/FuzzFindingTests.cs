using System.Net;
using System.Text;
using Rectify.Api.Tests.Infrastructure;

namespace Rectify.Api.Tests.Fuzz;

/// <summary>What the hostile-request fuzz test found, pinned down one by one so that each stays fixed.</summary>
public sealed class FuzzFindingTests(RectifyApp app) : IClassFixture<RectifyApp>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// With an Accept that names neither JSON nor problem+json, errors used to go out without a body, and a 404 thrown
    /// by a handler became a 500 (in Development: the developer exception page, stack trace and all, in HTML).
    /// </summary>
    [Theory]
    [InlineData("text/html")]
    [InlineData("application/xml")]
    [InlineData("image/png")]
    [InlineData("text/csv")]
    public async Task An_error_is_a_problem_whatever_the_caller_accepts(string accept)
    {
        using var client = app.CreateClient();
        await (await SendAsync(client, HttpMethod.Get, "/api/v1/measures/999999999", accept))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await SendAsync(client, HttpMethod.Get, "/api/v1/no-such-thing", accept)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await SendAsync(client, HttpMethod.Delete, "/api/v1/rounds", accept))
            .ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method-not-allowed");
        await (await SendAsync(client, HttpMethod.Get, "/api/v1/rounds?limit=abc", accept))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    /// <summary>A JSON body in a charset the service cannot decode used to be a 500; it is a 415, and nothing is written.</summary>
    [Theory]
    [InlineData("application/json; charset=nonsense")]
    [InlineData("application/json; charset=\"utf-8\"")]
    public async Task A_body_in_a_charset_the_service_cannot_read_is_refused_with_415(string contentType)
    {
        await new Seed(app).UnitsAsync();
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM rounds");
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/rounds")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("""
                {"code":"CHARSET-1","name":"八届省委第六轮巡视","inspectedUnit":"HNMZT","inspectionBody":"第六巡视组",
                 "inspectionStart":"2024-09-01","inspectionEnd":"2024-12-31","state":"rectifying"}
                """)),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await client.SendAsync(request, Ct);
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM rounds"));
    }

    static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, string accept)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return await client.SendAsync(request, Ct);
    }
}
