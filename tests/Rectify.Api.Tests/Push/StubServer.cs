using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Rectify.Api.Tests.Push;

/// <summary>One request as the client sent it, read whole by the stub (the client itself streams).</summary>
public sealed record SentRequest(
    HttpMethod Method,
    Uri Uri,
    IReadOnlyDictionary<string, string> Headers,
    string? ContentType,
    long? ContentLength,
    byte[] Body,
    DateTimeOffset At)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Stands in for the import endpoint: answers in turn (the last answer repeats) and records every request with the
/// time on the given clock. The client's behaviour is under test here, not the server's.
/// </summary>
public sealed class StubServer(TimeProvider clock, params StubServer.Answer[] answers) : HttpMessageHandler
{
    public delegate Task<HttpResponseMessage> Answer(HttpRequestMessage request, CancellationToken ct);

    readonly List<SentRequest> _requests = [];

    public StubServer(params Answer[] answers) : this(TimeProvider.System, answers)
    {
    }

    public IReadOnlyList<SentRequest> Requests
    {
        get
        {
            lock (_requests) return [.. _requests];
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var at = clock.GetUtcNow();
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        int index;
        lock (_requests)
        {
            _requests.Add(new SentRequest(request.Method, request.RequestUri!, headers,
                request.Content?.Headers.ContentType?.ToString(), request.Content?.Headers.ContentLength, body, at));
            index = Math.Min(_requests.Count - 1, answers.Length - 1);
        }
        return await answers[index](request, cancellationToken);
    }

    public static Answer Status(HttpStatusCode status, RetryConditionHeaderValue? retryAfter = null) => (_, _) =>
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent("") };
        response.Headers.RetryAfter = retryAfter;
        return Task.FromResult(response);
    };

    public static Answer Summary(object summary, bool replayed = false) => (_, _) =>
    {
        var response = Json(HttpStatusCode.OK, summary, "application/json");
        if (replayed) response.Headers.Add("Idempotent-Replayed", "true");
        return Task.FromResult(response);
    };

    public static Answer Problem(HttpStatusCode status, object problem) => (_, _) =>
        Task.FromResult(Json(status, problem, "application/problem+json"));

    public static Answer Throw(Exception e) => (_, _) => Task.FromException<HttpResponseMessage>(e);

    /// <summary>Never answers; only the client's timeout or cancellation ends it.</summary>
    public static Answer Hang => async (_, ct) =>
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        throw new InvalidOperationException("unreachable");
    };

    public static Answer Then(Action act, Answer answer) => (request, ct) =>
    {
        act();
        return answer(request, ct);
    };

    static HttpResponseMessage Json(HttpStatusCode status, object body, string mediaType) => new(status)
    {
        Content = new StringContent(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, mediaType),
    };

    public static readonly Guid ImportId = Guid.Parse("0f8e6d2c-4b1a-4c3e-9d7f-5a6b8c9d0e1f");

    /// <summary>An ImportSummary as the server writes it.</summary>
    public static object ImportSummary(long received = 3, long inserted = 3, long updated = 0, long unchanged = 0, long deleted = 0,
        bool applied = true, bool dryRun = false, bool atomic = true, object[]? errors = null, bool errorsTruncated = false) => new
    {
        importId = ImportId,
        dryRun,
        strategy = "upsert",
        atomic,
        applied,
        received,
        inserted,
        updated,
        unchanged,
        deleted,
        rejected = errors?.Length ?? 0,
        errors = errors ?? [],
        errorsTruncated,
    };

    public static object ImportRejected(params object[] errors) => new
    {
        type = "urn:rectify:problem:import-rejected",
        title = "Rows rejected",
        status = 422,
        detail = "The push is atomic and some rows were rejected; nothing was written.",
        summary = ImportSummary(received: 3, inserted: 0, applied: false, errors: errors),
    };
}
