using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Rectify.Push;

/// <summary>
/// Pushes one file of indicator values to the import endpoint: streams it as the body, keys it for idempotency,
/// retries what is transient, and turns the answer into a <see cref="PushResult"/>. Prints nothing itself but one
/// line per retry to <c>log</c>, so that a job's log shows why it took long.
/// </summary>
public sealed class PushClient
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    readonly HttpClient _http;
    readonly PushOptions _options;
    readonly TimeProvider _time;
    readonly TextWriter _log;

    public PushClient(HttpClient http, PushOptions options, TimeProvider? time = null, TextWriter? log = null)
    {
        _http = http;
        _options = options;
        _time = time ?? TimeProvider.System;
        _log = log ?? TextWriter.Null;
        RequestUri = BuildRequestUri(options);
    }

    public Uri RequestUri { get; }

    public async Task<PushResult> PushAsync(CancellationToken ct)
    {
        var file = new PushFile(_options.FilePath);
        string key;
        try
        {
            key = await file.IdempotencyKeyAsync(_options, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failed($"cannot read {file.Name}: {e.Message}", 0, []);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Failed("cancelled before anything was sent", 0, []);
        }
        // A dry run writes nothing, so a retry is harmless without a key; with one, a second dry run after the
        // reference data was fixed could be answered from the store with the first run's stale findings.
        var sentKey = _options.DryRun ? null : key;

        var attempts = 0;
        var retries = new List<PushRetry>();
        var pipeline = BuildPipeline(retries, () => attempts);
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(async token =>
            {
                attempts++;
                using var request = CreateRequest(file, sentKey);
                return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
            }, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Failed("cancelled before the server answered; the push may or may not have been applied (running it again is safe)", attempts,
                retries, sentKey);
        }
        catch (FileChangedException e)
        {
            return Failed(e.Message, attempts, retries, sentKey);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failed($"cannot read {file.Name}: {e.Message}", attempts, retries, sentKey);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or OperationCanceledException)
        {
            return Failed($"no answer after {Attempts(attempts)}: {Describe(e)}", attempts, retries, sentKey);
        }

        using (response)
            return await InterpretAsync(response, attempts, retries, sentKey, ct);
    }

    async Task<PushResult> InterpretAsync(HttpResponseMessage response, int attempts, List<PushRetry> retries, string? key, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var replayed = response.Headers.TryGetValues(ReplayedHeader, out var values)
            && values.Any(v => string.Equals(v.Trim(), "true", StringComparison.OrdinalIgnoreCase));
        var body = await response.Content.ReadAsStringAsync(ct);
        var result = new PushResult
        {
            Outcome = PushOutcome.Failed,
            StatusCode = status,
            Replayed = replayed,
            IdempotencyKey = key,
            Attempts = attempts,
            Retries = retries,
        };

        if (response.IsSuccessStatusCode)
        {
            var summary = ParseSummary(body);
            if (summary is null)
                return result with { Message = $"the server answered {Status(response)} without an import summary" };
            if (summary.Rejected > 0) return result with { Outcome = PushOutcome.RowsRejected, Summary = summary };
            // An empty file is applied as nothing at all; anything else not applied outside a dry run is a surprise.
            if (!summary.Applied && !_options.DryRun && summary.Received > 0)
                return result with { Summary = summary, Message = "the server answered but did not apply the push" };
            return result with { Outcome = PushOutcome.Accepted, Summary = summary };
        }

        var problem = ProblemDocument.Parse(body);
        if (status == StatusCodes.UnprocessableEntity && problem is { Type: ProblemDocument.ImportRejectedType, Summary: { } refused })
            return result with { Outcome = PushOutcome.Refused, Summary = refused, Problem = problem };

        // Redirects are not followed: the body would have to be sent again, and the key with it, to an address
        // the operator did not name.
        if (status is >= 300 and < 400)
            return result with { Message = $"the server answered {Status(response)} to {response.Headers.Location}; pass that address as --url" };

        var message = $"the server answered {Status(response)}";
        if (IsTransient(status) && attempts > 1) message += $" after {Attempts(attempts)}";
        if (RetryAfter(response) is { } wait && wait > _options.MaxRetryAfter)
            message += $" and asked to wait {Seconds(wait)} before trying again";
        // A proxy's error page says more than its status; a few hundred characters of it are enough.
        if (problem is null && body.Length > 0 && !LooksLikeJson(response))
            message += ": " + (body.Length > 300 ? body[..300] + "…" : body);
        return result with { Problem = problem, Message = message };
    }

    ResiliencePipeline<HttpResponseMessage> BuildPipeline(List<PushRetry> retries, Func<int> attempts)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time };
        // Polly refuses zero retries; --retries 0 means no retry strategy at all.
        if (_options.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = _options.Retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                MaxDelay = _options.RetryMaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Exception is { } e ? Describe(e) : Status(args.Outcome.Result!);
                    retries.Add(new PushRetry(args.AttemptNumber + 1, reason, args.RetryDelay));
                    _log.WriteLine($"rectify-push: attempt {attempts()} of {_options.Retries + 1} failed ({reason}); retrying in " +
                        $"{Seconds(args.RetryDelay)}");
                    return default;
                },
            });
        }
        return builder.AddTimeout(_options.AttemptTimeout).Build();
    }

    bool ShouldRetry(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => outcome.Result is { } response && IsTransient((int)response.StatusCode)
            && (RetryAfter(response) is not { } wait || wait <= _options.MaxRetryAfter),
        TimeoutRejectedException => true,
        // A certificate or protocol mismatch will not mend itself in a few seconds; a refused or broken connection may.
        HttpRequestException e => e.HttpRequestError is not (HttpRequestError.SecureConnectionError
            or HttpRequestError.UserAuthenticationError or HttpRequestError.VersionNegotiationError
            or HttpRequestError.ExtendedConnectNotSupported or HttpRequestError.ConfigurationLimitExceeded),
        // HttpClient.Timeout, when the caller's HttpClient has one.
        TaskCanceledException { InnerException: TimeoutException } => true,
        _ => false,
    };

    static bool IsTransient(int status) => status is StatusCodes.RequestTimeout or StatusCodes.TooManyRequests
        or StatusCodes.BadGateway or StatusCodes.ServiceUnavailable or StatusCodes.GatewayTimeout;

    /// <summary>The wait the server asked for, in seconds or as an HTTP date; null when it did not say.</summary>
    TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    HttpRequestMessage CreateRequest(PushFile file, string? key)
    {
        // Opened per attempt: a retry streams the file again from its start, and the content disposes it.
        var content = new StreamContent(file.OpenUnchanged());
        content.Headers.ContentType = _options.Format == ImportFormat.Csv
            ? new MediaTypeHeaderValue("text/csv") { CharSet = "utf-8" }
            : new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, RequestUri) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/problem+json"));
        // Lets the server refuse (401, 413) before a large file is uploaded for nothing.
        request.Headers.ExpectContinue = true;
        if (key is not null) request.Headers.Add(IdempotencyKeyHeader, key);
        if (_options.ApiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        return request;
    }

    static Uri BuildRequestUri(PushOptions options)
    {
        var query = string.Join('&', new[]
        {
            "strategy=" + PushOptions.Name(options.Strategy),
            "atomic=" + (options.Atomic ? "true" : "false"),
            "dryRun=" + (options.DryRun ? "true" : "false"),
            options.RevisionReason is { } reason ? "revisionReason=" + Uri.EscapeDataString(reason) : null,
        }.OfType<string>());
        // Keeps a path prefix in --url (a service behind a reverse proxy at /rectify).
        var baseUrl = options.BaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri($"{baseUrl}/api/v1/data-values/import?{query}");
    }

    static ImportSummary? ParseSummary(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return ImportSummary.From(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static bool LooksLikeJson(HttpResponseMessage response)
        => response.Content.Headers.ContentType?.MediaType is { } type && type.EndsWith("json", StringComparison.OrdinalIgnoreCase);

    PushResult Failed(string message, int attempts, List<PushRetry> retries, string? key = null) => new()
    {
        Outcome = PushOutcome.Failed,
        Message = message,
        Attempts = attempts,
        Retries = retries,
        IdempotencyKey = key,
    };

    static string Describe(Exception e) => e switch
    {
        TimeoutRejectedException t => $"no answer within {Seconds(t.Timeout)}",
        TaskCanceledException { InnerException: TimeoutException } => "no answer within the HTTP client's timeout",
        HttpRequestException { InnerException: { } inner } h when !h.Message.Contains(inner.Message, StringComparison.Ordinal) =>
            $"{h.Message} ({inner.Message})",
        _ => e.Message,
    };

    static string Status(HttpResponseMessage response)
        => string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}");

    static string Attempts(int n) => n == 1 ? "1 attempt" : string.Create(CultureInfo.InvariantCulture, $"{n} attempts");

    static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s");

    static class StatusCodes
    {
        public const int RequestTimeout = (int)HttpStatusCode.RequestTimeout;
        public const int UnprocessableEntity = (int)HttpStatusCode.UnprocessableEntity;
        public const int TooManyRequests = (int)HttpStatusCode.TooManyRequests;
        public const int BadGateway = (int)HttpStatusCode.BadGateway;
        public const int ServiceUnavailable = (int)HttpStatusCode.ServiceUnavailable;
        public const int GatewayTimeout = (int)HttpStatusCode.GatewayTimeout;
    }
}
