using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Webhooks;

/// <summary>
/// Delivers the outbox. A node takes one subscription at a time with <c>FOR NO KEY UPDATE SKIP LOCKED</c> and sends its due
/// events in outbox order while holding that row lock in an open transaction, recording each outcome in it: several
/// nodes share the subscriptions and never send the same delivery twice at once, and a node that dies mid-delivery
/// leaves its transaction to be rolled back, the lock released and the event to be sent again (at least once). A failed
/// event holds back the subscription's later events (per-subscription order) until it is delivered, or until the
/// subscription is paused after <see cref="WebhookOptions.PauseAfterFailures"/> failures in a row.
/// </summary>
public sealed class WebhookDispatcher(NpgsqlDataSource dataSource, IHttpClientFactory httpClients, IOptions<WebhookOptions> options,
    DatabaseReadiness readiness, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    public const string IdHeader = "Rectify-Webhook-Id";
    public const string TimestampHeader = "Rectify-Webhook-Timestamp";
    public const string SignatureHeader = "Rectify-Webhook-Signature";
    const int Batch = 50;

    /// <summary>HMAC-SHA256 of "timestamp.body" with the subscription's secret, as lower-case hex after "sha256=".</summary>
    public static string Sign(string secret, string timestamp, string body)
        => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    /// <summary>Delivers one subscription's due events; false when no subscription had any (or all were taken by other nodes).</summary>
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var subscription = await connection.QuerySingleOrDefaultAsync<Subscription>(new CommandDefinition(PickSql, null, tx, cancellationToken: ct));
        if (subscription is null)
        {
            await tx.CommitAsync(ct);
            return false;
        }
        var due = await connection.QueryAsync<Due>(new CommandDefinition(DueSql, new { id = subscription.Id, batch = Batch }, tx, cancellationToken: ct));
        foreach (var delivery in due)
        {
            if (!delivery.IsDue) break; // a later event waits for the one before it
            var outcome = await SendAsync(subscription, delivery, ct);
            var o = options.Value;
            var delay = outcome.RetryAfter ?? Backoff(delivery.Attempts + 1, o);
            await connection.ExecuteAsync(new CommandDefinition(outcome.Delivered ? DeliveredSql : FailedSql, new
            {
                id = delivery.Id, subscription = subscription.Id, status = outcome.Status, error = outcome.Error, latency = outcome.LatencyMs,
                delayMs = (long)delay.TotalMilliseconds, pauseAfter = o.PauseAfterFailures,
            }, tx, cancellationToken: ct));
            if (!outcome.Delivered) break;
        }
        await tx.CommitAsync(ct);
        return true;
    }

    static TimeSpan Backoff(int attempt, WebhookOptions o)
    {
        var exponential = o.Backoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var jittered = Math.Min(exponential, o.MaxBackoff.TotalMilliseconds) * (0.8 + 0.4 * Random.Shared.NextDouble());
        return TimeSpan.FromMilliseconds(jittered);
    }

    sealed record Outcome(bool Delivered, int? Status, string? Error, int LatencyMs, TimeSpan? RetryAfter);

    async Task<Outcome> SendAsync(Subscription subscription, Due delivery, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(new
        {
            id = delivery.EventId, type = delivery.Type, occurredAt = DateTime.SpecifyKind(delivery.OccurredAt, DateTimeKind.Utc),
            data = JsonDocument.Parse(delivery.Data).RootElement,
        });
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(IdHeader, delivery.EventId.ToString());
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(subscription.Secret, timestamp, body));
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, ct);
            var status = (int)response.StatusCode;
            var latency = (int)clock.ElapsedMilliseconds;
            if (response.IsSuccessStatusCode) return new Outcome(true, status, null, latency, null);
            var error = status is >= 300 and < 400 ? $"HTTP {status}: redirects are not followed" : $"HTTP {status}";
            return new Outcome(false, status, error, latency, RetryAfter(response));
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            var refused = e as OutboundRefusedException ?? e.InnerException as OutboundRefusedException;
            var error = refused is not null ? "Refused: " + refused.Message : $"{e.GetType().Name}: {e.Message}";
            logger.LogInformation("Webhook delivery {Delivery} to subscription {Subscription} failed: {Error}", delivery.Id, subscription.Id, error);
            return new Outcome(false, null, error, (int)clock.ElapsedMilliseconds, null);
        }
    }

    static TimeSpan? RetryAfter(HttpResponseMessage response)
        => response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) ? null
            : response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Deliver) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            var worked = false;
            try
            {
                worked = readiness.IsReady && await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Webhook delivery failed, will retry: {Message}", e.Message);
            }
            if (worked) continue;
            try
            {
                await Task.Delay(options.Value.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    sealed class Subscription
    {
        public long Id { get; init; }
        public string Url { get; init; } = "";
        public string Secret { get; init; } = "";
    }

    sealed class Due
    {
        public long Id { get; init; }
        public Guid EventId { get; init; }
        public string Type { get; init; } = "";
        public DateTime OccurredAt { get; init; }
        public string Data { get; init; } = "{}";
        public int Attempts { get; init; }
        public bool IsDue { get; init; }
    }

    // An active subscription whose first pending delivery is due, that no other node is delivering. NO KEY UPDATE: it
    // excludes other nodes but not the KEY SHARE lock that a writer's trigger takes to queue a delivery for it, so a
    // slow receiver never holds up the writes that make events.
    const string PickSql = """
        SELECT s.id, s.url, s.secret FROM webhook_subscriptions s
        WHERE s.state = 'active'
          AND (SELECT d.next_attempt_at FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending' ORDER BY d.id LIMIT 1)
              <= clock_timestamp()
        ORDER BY s.id
        FOR NO KEY UPDATE SKIP LOCKED
        LIMIT 1
        """;

    const string DueSql = """
        SELECT d.id, d.event_id, e.type, e.occurred_at, e.data::text AS data, d.attempts, d.next_attempt_at <= clock_timestamp() AS is_due
        FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.subscription_id = @id AND d.state = 'pending'
        ORDER BY d.id
        LIMIT @batch
        """;

    const string DeliveredSql = """
        UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_attempt_at = clock_timestamp(), last_status = @status,
            last_error = NULL, latency_ms = @latency, delivered_at = clock_timestamp()
        WHERE id = @id;
        UPDATE webhook_subscriptions SET consecutive_failures = 0 WHERE id = @subscription AND consecutive_failures <> 0;
        """;

    const string FailedSql = """
        UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = clock_timestamp(), last_status = @status, last_error = @error,
            latency_ms = @latency, next_attempt_at = clock_timestamp() + make_interval(secs => @delayMs / 1000.0)
        WHERE id = @id;
        UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1, updated_at = now(),
            state = CASE WHEN consecutive_failures + 1 >= @pauseAfter THEN 'paused' ELSE state END,
            paused_reason = CASE WHEN consecutive_failures + 1 >= @pauseAfter
                THEN format('Paused after %s failed deliveries in a row; last: %s', consecutive_failures + 1, @error) ELSE paused_reason END
        WHERE id = @subscription;
        """;
}
