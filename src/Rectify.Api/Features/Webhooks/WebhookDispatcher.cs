using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Rectify.Api.Features.Journal;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Webhooks;

/// <summary>
/// Delivers the outbox by lease. A node claims one subscription in a short transaction (<c>FOR NO KEY UPDATE SKIP
/// LOCKED</c>, a lease token and expiry, the attempt of its first due delivery counted) and commits; it sends with no
/// transaction or connection held, then records the outcome in a second short transaction only while the lease is
/// still its own, claiming the next due delivery in the same transaction. A slow receiver therefore holds back no
/// transaction (nor the change feed, which waits for the oldest running one). Several nodes share the subscriptions
/// and never send the same subscription's events at once; a node that dies mid-call leaves its lease to expire, and
/// another node then sends the event again (at least once). A node gives up a call before its lease ends. A failed
/// event holds back the subscription's later events (per-subscription order) until it is delivered, or until the
/// subscription is paused after <see cref="WebhookOptions.PauseAfterFailures"/> failures in a row (journalled).
/// </summary>
public sealed class WebhookDispatcher(Db db, WebhookRepository webhooks, IServiceScopeFactory scopes, IHttpClientFactory httpClients,
    IOptions<WebhookOptions> options, DatabaseReadiness readiness, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    public const string IdHeader = "Rectify-Webhook-Id";
    public const string TimestampHeader = "Rectify-Webhook-Timestamp";
    public const string SignatureHeader = "Rectify-Webhook-Signature";
    const int Batch = 50;

    /// <summary>HMAC-SHA256 of "timestamp.body" with the subscription's secret, as lower-case hex after "sha256=".</summary>
    public static string Sign(string secret, string timestamp, string body)
        => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    /// <summary>
    /// A subscription this node may deliver until <see cref="Until"/> (this node's clock, taken before the claim, so
    /// never later than the database's expiry), and the delivery it claimed to send next.
    /// </summary>
    internal sealed record Lease(LeasedSubscription Subscription, Guid Token, long Until, DueDelivery? Next);

    internal sealed record Outcome(bool Delivered, int? Status, string? Error, int LatencyMs, TimeSpan? RetryAfter);

    /// <summary>
    /// Delivers up to a batch of one subscription's due events; false when no subscription had any (or all were leased by other nodes).
    /// </summary>
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        var lease = await ClaimAsync(ct);
        if (lease is null) return false;
        try
        {
            for (var sent = 1; lease?.Next is { } delivery; sent++)
                lease = await RecordAsync(lease, delivery, await SendAsync(lease, delivery, ct), claimNext: sent < Batch, ct);
        }
        finally
        {
            if (lease is not null) await ReleaseAsync(lease);
        }
        return true;
    }

    /// <summary>Leases a subscription with a due event and claims that event (its attempt counted); null when there is none.</summary>
    internal async Task<Lease?> ClaimAsync(CancellationToken ct)
    {
        var length = options.Value.Lease;
        var until = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        var token = Guid.NewGuid();
        return await db.WriteAsync(async (tx, t) =>
        {
            if (await webhooks.LeaseAsync(tx, token, length, t) is not { } subscription) return null;
            var next = await webhooks.ClaimNextAsync(tx, subscription.Id, t);
            if (next is null) await webhooks.ReleaseAsync(tx, subscription.Id, token, t);
            return next is null ? null : new Lease(subscription, token, until, next);
        }, ct);
    }

    /// <summary>
    /// Records <paramref name="outcome"/> of <paramref name="delivery"/> when the lease is still ours (null otherwise:
    /// another node owns the subscription now, and what this node saw is dropped) and, after a success, claims the
    /// next due delivery under the renewed lease; the lease is released when there is nothing more to send now.
    /// </summary>
    internal async Task<Lease?> RecordAsync(Lease lease, DueDelivery delivery, Outcome outcome, bool claimNext, CancellationToken ct)
    {
        var o = options.Value;
        var until = Stopwatch.GetTimestamp() + (long)(o.Lease.TotalSeconds * Stopwatch.Frequency);
        var id = lease.Subscription.Id;
        var next = await db.WriteAsync(async (tx, t) =>
        {
            if (await webhooks.RenewAsync(tx, id, lease.Token, o.Lease, t) is not { } before)
            {
                logger.LogWarning("Webhook delivery {Delivery}: the lease on subscription {Subscription} ended before its outcome was recorded; "
                    + "another node sends it again", delivery.Id, id);
                return (Lost: true, Next: (DueDelivery?)null);
            }
            var after = outcome.Delivered
                ? await webhooks.DeliveredAsync(tx, id, delivery.Id, outcome.Status, outcome.LatencyMs, t)
                : await webhooks.FailedAsync(tx, id, delivery.Id, outcome.Status, outcome.Error, outcome.LatencyMs,
                    outcome.RetryAfter ?? Backoff(delivery.Attempts, o), o.PauseAfterFailures, t);
            if (before.State == "active" && after.State == "paused") await JournalPauseAsync(tx, before, after, t);
            var claimed = outcome.Delivered && claimNext ? await webhooks.ClaimNextAsync(tx, id, t) : null;
            if (claimed is null) await webhooks.ReleaseAsync(tx, id, lease.Token, t);
            return (Lost: false, Next: claimed);
        }, ct);
        return next.Next is { } due ? lease with { Until = until, Next = due } : null;
    }

    /// <summary>An automatic pause is a change of the subscription like an admin's, journalled as the service's own.</summary>
    async Task JournalPauseAsync(Tx tx, SubscriptionRow before, SubscriptionRow after, CancellationToken ct)
    {
        await using var scope = scopes.CreateSystemScope();
        await scope.ServiceProvider.GetRequiredService<JournalWriter>()
            .RecordAsync(tx, WebhookUseCases.JournalEntity, after.Id, "pause", before.ToResponse(), after.ToResponse(), ct);
    }

    /// <summary>Gives the lease back (a stop, a failure of this node): the subscription can be claimed at once, not after the lease.</summary>
    async Task ReleaseAsync(Lease lease)
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await db.WriteAsync(async (tx, t) =>
            {
                await webhooks.ReleaseAsync(tx, lease.Subscription.Id, lease.Token, t);
                return true;
            }, bound.Token);
        }
        catch (Exception e)
        {
            logger.LogInformation("Could not release the webhook lease on subscription {Subscription}; it expires by itself: {Message}",
                lease.Subscription.Id, e.Message);
        }
    }

    static TimeSpan Backoff(int attempt, WebhookOptions o)
    {
        var exponential = o.Backoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var jittered = Math.Min(exponential, o.MaxBackoff.TotalMilliseconds) * (0.8 + 0.4 * Random.Shared.NextDouble());
        return TimeSpan.FromMilliseconds(jittered);
    }

    /// <summary>Sends one delivery; the call is given up a tenth of the lease before the lease ends, so that its outcome lands in time.</summary>
    internal async Task<Outcome> SendAsync(Lease lease, DueDelivery delivery, CancellationToken ct)
    {
        var subscription = lease.Subscription;
        var margin = options.Value.Lease / 10;
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), lease.Until) - margin;
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        giveUp.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        var body = JsonSerializer.Serialize(new
        {
            id = delivery.EventId, type = delivery.Type, occurredAt = DateTime.SpecifyKind(delivery.OccurredAt, DateTimeKind.Utc),
            data = JsonDocument.Parse(delivery.Data).RootElement,
        });
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request =
            new HttpRequestMessage(HttpMethod.Post, subscription.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(IdHeader, delivery.EventId.ToString());
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(SignatureHeader, Sign(subscription.Secret, timestamp, body));
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, giveUp.Token);
            var status = (int)response.StatusCode;
            var latency = (int)clock.ElapsedMilliseconds;
            if (response.IsSuccessStatusCode) return new Outcome(true, status, null, latency, null);
            var error = status is >= 300 and < 400 ? $"HTTP {status}: redirects are not followed" : $"HTTP {status}";
            return new Outcome(false, status, error, latency, RetryAfter(response));
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            var refused = e as OutboundRefusedException ?? e.InnerException as OutboundRefusedException;
            var error = refused is not null ? "Refused: " + refused.Message
                : giveUp.IsCancellationRequested ? $"No answer within the delivery lease ({options.Value.Lease - margin})"
                : $"{e.GetType().Name}: {e.Message}";
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
}
