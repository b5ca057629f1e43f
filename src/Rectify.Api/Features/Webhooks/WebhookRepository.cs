using System.Security.Cryptography;
using Dapper;
using Rectify.Api.Infrastructure.Auth;
using Rectify.Api.Infrastructure.Database;
using Rectify.Api.Infrastructure.Problems;

namespace Rectify.Api.Features.Webhooks;

/// <summary>Subscriptions and their delivery log (the outbox itself is written by the database's triggers, migration 0009).</summary>
public sealed class WebhookRepository(Db db, OutboundGuard guard, Caller caller)
{
    public async Task<SubscriptionCreatedResponse> CreateAsync(CreateSubscriptionRequest request, CancellationToken ct)
    {
        var unknown = request.EventTypes.Except(WebhookEvents.All).ToArray();
        if (unknown.Length > 0) throw Problem.Validation("eventTypes", $"Unknown event types ({string.Join(", ", unknown)}); use: {string.Join(", ", WebhookEvents.All)}.");
        if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var url)) throw Problem.Validation("url", "Give an absolute http or https URL.");
        try
        {
            await guard.CheckAsync(url, ct);
        }
        catch (OutboundRefusedException refused)
        {
            throw Problem.Unprocessable("url", refused.Reason);
        }
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var row = await db.WriteAsync((tx, token) => tx.QuerySingleAsync<SubscriptionRow>(InsertSql, new
        {
            url = url.ToString(), types = request.EventTypes.Distinct().ToArray(), unit = request.Unit, secret, by = caller.Name,
        }, token), ct);
        return new SubscriptionCreatedResponse(row.ToResponse(), secret);
    }

    public Task<IReadOnlyList<SubscriptionResponse>> ListAsync(CancellationToken ct)
        => db.ReadAsync<IReadOnlyList<SubscriptionResponse>>(async (connection, token) =>
            (await connection.QueryAsync<SubscriptionRow>(new CommandDefinition($"SELECT {Columns} FROM webhook_subscriptions ORDER BY id", cancellationToken: token)))
                .Select(r => r.ToResponse()).ToList(), ct);

    public async Task<SubscriptionResponse> GetAsync(long id, CancellationToken ct)
        => (await db.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync<SubscriptionRow>(
            new CommandDefinition($"SELECT {Columns} FROM webhook_subscriptions WHERE id = @id", new { id }, cancellationToken: token)), ct))?.ToResponse()
            ?? throw Problem.NotFound("webhook subscription", id);

    /// <summary>Active again, its failure count reset; what it missed meanwhile is delivered in order.</summary>
    public async Task<SubscriptionResponse> ResumeAsync(long id, CancellationToken ct)
        => (await db.WriteAsync((tx, token) => tx.QuerySingleOrDefaultAsync<SubscriptionRow>(ResumeSql, new { id }, token), ct, repeatable: true))?.ToResponse()
            ?? throw Problem.NotFound("webhook subscription", id);

    public async Task DeleteAsync(long id, CancellationToken ct)
    {
        if (await db.WriteAsync((tx, token) => tx.ExecuteAsync("DELETE FROM webhook_subscriptions WHERE id = @id", new { id }, token), ct, repeatable: true) == 0)
            throw Problem.NotFound("webhook subscription", id);
    }

    public async Task<IReadOnlyList<DeliveryResponse>> DeliveriesAsync(long id, CancellationToken ct)
    {
        await GetAsync(id, ct);
        return await db.ReadAsync<IReadOnlyList<DeliveryResponse>>(async (connection, token) =>
            (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(DeliveriesSql + " ORDER BY d.id DESC LIMIT 200", new { id }, cancellationToken: token)))
                .Select(r => r.ToResponse()).ToList(), ct);
    }

    /// <summary>Sends an event again (it keeps its event id, so the receiver can tell it is the same event).</summary>
    public async Task<DeliveryResponse> RedeliverAsync(long id, long deliveryId, CancellationToken ct)
        => (await db.WriteAsync((tx, token) => tx.QuerySingleOrDefaultAsync<DeliveryRow>(RedeliverSql, new { id, deliveryId }, token), ct, repeatable: true))?.ToResponse()
            ?? throw Problem.NotFound("webhook delivery", deliveryId);

    const string Columns = "id, url, event_types, unit_code, state, paused_reason, consecutive_failures, created_by, created_at";

    const string InsertSql = $"""
        INSERT INTO webhook_subscriptions (url, event_types, unit_code, secret, created_by) VALUES (@url, @types, @unit, @secret, @by)
        RETURNING {Columns}
        """;

    const string ResumeSql = $"""
        UPDATE webhook_subscriptions SET state = 'active', paused_reason = NULL, consecutive_failures = 0, updated_at = now() WHERE id = @id
        RETURNING {Columns}
        """;

    const string DeliveriesSql = """
        SELECT d.id, d.event_id, e.type AS event_type, e.occurred_at, d.state, d.attempts, d.last_status, d.last_error, d.latency_ms,
               d.last_attempt_at, d.next_attempt_at, d.delivered_at
        FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.subscription_id = @id
        """;

    const string RedeliverSql = """
        WITH again AS (
            UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now() WHERE subscription_id = @id AND id = @deliveryId
            RETURNING *
        )
        SELECT d.id, d.event_id, e.type AS event_type, e.occurred_at, d.state, d.attempts, d.last_status, d.last_error, d.latency_ms,
               d.last_attempt_at, d.next_attempt_at, d.delivered_at
        FROM again d JOIN webhook_events e ON e.id = d.event_id
        """;

    sealed class SubscriptionRow
    {
        public long Id { get; init; }
        public string Url { get; init; } = "";
        public string[] EventTypes { get; init; } = [];
        public string? UnitCode { get; init; }
        public string State { get; init; } = "";
        public string? PausedReason { get; init; }
        public int ConsecutiveFailures { get; init; }
        public string CreatedBy { get; init; } = "";
        public DateTime CreatedAt { get; init; }

        public SubscriptionResponse ToResponse() => new(Id, Url, EventTypes, UnitCode, State, PausedReason, ConsecutiveFailures, CreatedBy,
            DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc));
    }

    sealed class DeliveryRow
    {
        public long Id { get; init; }
        public Guid EventId { get; init; }
        public string EventType { get; init; } = "";
        public DateTime OccurredAt { get; init; }
        public string State { get; init; } = "";
        public int Attempts { get; init; }
        public int? LastStatus { get; init; }
        public string? LastError { get; init; }
        public int? LatencyMs { get; init; }
        public DateTime? LastAttemptAt { get; init; }
        public DateTime NextAttemptAt { get; init; }
        public DateTime? DeliveredAt { get; init; }

        public DeliveryResponse ToResponse() => new(Id, EventId, EventType, Utc(OccurredAt), State, Attempts, LastStatus, LastError, LatencyMs,
            LastAttemptAt is { } l ? Utc(l) : null, Utc(NextAttemptAt), DeliveredAt is { } d ? Utc(d) : null);

        static DateTime Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc);
    }
}
