using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rectify.Api.Tests.Infrastructure;

/// <summary>Short HTTP calls for tests: JSON bodies as anonymous objects, answers as <see cref="JsonNode"/> (the wire format).</summary>
public static class Http
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body, string? idempotencyKey = null,
        string? ifMatch = null)
        => client.SendAsync(Request(HttpMethod.Post, url, body, idempotencyKey, ifMatch), Ct);

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, object body, string? ifMatch)
        => client.SendAsync(Request(HttpMethod.Put, url, body, null, ifMatch), Ct);

    /// <summary>Sends a raw body (malformed JSON, other content types).</summary>
    public static Task<HttpResponseMessage> SendRawAsync(this HttpClient client, HttpMethod method, string url, string body,
        string contentType = "application/json", string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return client.SendAsync(request, Ct);
    }

    public static Task<HttpResponseMessage> GetAsync(this HttpClient client, string url, bool _ = false) => client.GetAsync(url, Ct);

    public static async Task<JsonNode> GetJsonAsync(this HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, Ct);
        return await response.ShouldBeAsync(HttpStatusCode.OK);
    }

    /// <summary>Asserts the status (showing the body when it differs) and returns the JSON body.</summary>
    public static async Task<JsonNode> ShouldBeAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    /// <summary>Asserts an RFC 9457 problem with this status and type and returns it.</summary>
    public static async Task<JsonNode> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string? type = null)
    {
        var problem = await response.ShouldBeAsync(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()));
        Assert.StartsWith("urn:rectify:problem:", problem["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(problem["traceId"]?.GetValue<string>()));
        if (type is not null) Assert.Equal("urn:rectify:problem:" + type, problem["type"]!.GetValue<string>());
        var text = problem.ToJsonString();
        Assert.DoesNotContain("   at ", text);          // no stack trace
        Assert.DoesNotContain("Npgsql", text);
        Assert.DoesNotContain("SELECT", text);
        return problem;
    }

    public static string ETag(this HttpResponseMessage response)
        => response.Headers.ETag?.ToString() ?? throw new InvalidOperationException("The answer has no ETag.");

    static HttpRequestMessage Request(HttpMethod method, string url, object body, string? idempotencyKey, string? ifMatch)
    {
        var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body, options: Json) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return request;
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
