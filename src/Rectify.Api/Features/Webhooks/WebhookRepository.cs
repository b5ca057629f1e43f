using Dapper;
using Rectify.Api.Infrastructure.Database;

namespace Rectify.Api.Features.Webhooks;

/// <summary>
/// The SQL of subscriptions, their delivery log and the delivery leases (the outbox itself is written by the database's
/// triggers, migration 0009); the rules are <see cref="WebhookUseCases"/>' and <see cref="WebhookDispatcher"/>'s.
/// </summary>
public sealed class WebhookRepository(Db db)
{
    internal Task<SubscriptionRow> InsertAsync(Tx tx, string url, string[] types, string? unit, string secret, string by,
        CancellationToken ct)
        => tx.QuerySingleAsync<SubscriptionRow>(InsertSql, new { url, types, unit, secret, by }, ct);

    public Task<IReadOnlyList<SubscriptionResponse>> ListAsync(CancellationToken ct)
        => db.ReadAsync<IReadOnlyList<SubscriptionResponse>>(async (connection, token) =>
            (await connection.QueryAsync<SubscriptionRow>(new CommandDefinition($"SELECT {Columns} FROM webhook_subscriptions ORDER BY id",
                cancellationToken: token)))
                .Select(r => r.ToResponse()).ToList(), ct);

    public async Task<SubscriptionResponse?> FindAsync(long id, CancellationToken ct)
        => (await db.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync<SubscriptionRow>(
            new CommandDefinition($"SELECT {Columns} FROM webhook_subscriptions WHERE id = @id", new { id }, cancellationToken: token)),
                ct))?.ToResponse();

    /// <summary>The subscription locked to change (not against the triggers that queue its deliveries); null when absent.</summary>
    internal Task<SubscriptionRow?> LockAsync(Tx tx, long id, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<SubscriptionRow>($"SELECT {Columns} FROM webhook_subscriptions WHERE id = @id FOR NO KEY UPDATE", new { id },
            ct);

    internal Task<SubscriptionRow> ResumeAsync(Tx tx, long id, CancellationToken ct)
        => tx.QuerySingleAsync<SubscriptionRow>(ResumeSql, new { id }, ct);

    public Task DeleteAsync(Tx tx, long id, CancellationToken ct)
        => tx.ExecuteAsync("DELETE FROM webhook_subscriptions WHERE id = @id", new { id }, ct);

    /// <summary>The latest 200 deliveries of the subscription, newest first.</summary>
    public Task<IReadOnlyList<DeliveryResponse>> DeliveriesAsync(long id, CancellationToken ct)
        => db.ReadAsync<IReadOnlyList<DeliveryResponse>>(async (connection, token) =>
            (await connection.QueryAsync<DeliveryRow>(new CommandDefinition(DeliveriesSql + " ORDER BY d.id DESC LIMIT 200", new { id },
                cancellationToken: token)))
                .Select(r => r.ToResponse()).ToList(), ct);

    /// <summary>The delivery queued again at once; null when the subscription has no such delivery.</summary>
    public async Task<DeliveryResponse?> RedeliverAsync(Tx tx, long id, long deliveryId, CancellationToken ct)
        => (await tx.QuerySingleOrDefaultAsync<DeliveryRow>(RedeliverSql, new { id, deliveryId }, ct))?.ToResponse();

    // Delivery by lease --------------------------------------------------------------------------------------------

    /// <summary>
    /// Leases an active subscription whose first pending delivery is due and whose lease (if any) has expired; null when
    /// there is none that another node is not already claiming.
    /// </summary>
    internal Task<LeasedSubscription?> LeaseAsync(Tx tx, Guid token, TimeSpan lease, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<LeasedSubscription>(LeaseSql, new { token, lease }, ct);

    /// <summary>Counts an attempt of the subscription's first pending delivery when it is due, and returns it; null when none is due.</summary>
    internal Task<DueDelivery?> ClaimNextAsync(Tx tx, long subscription, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<DueDelivery>(ClaimNextSql, new { subscription }, ct);

    /// <summary>
    /// Locks the subscription and renews the lease when it is still <paramref name="token"/>'s and has not expired: the
    /// subscription as it stands, or null when the lease was lost (expired, or taken by another node).
    /// </summary>
    internal Task<SubscriptionRow?> RenewAsync(Tx tx, long subscription, Guid token, TimeSpan lease, CancellationToken ct)
        => tx.QuerySingleOrDefaultAsync<SubscriptionRow>(RenewSql, new { subscription, token, lease }, ct);

    internal Task<SubscriptionRow> DeliveredAsync(Tx tx, long subscription, long delivery, int? status, int latency, CancellationToken ct)
        => tx.QuerySingleAsync<SubscriptionRow>(DeliveredSql, new { subscription, id = delivery, status, latency }, ct);

    /// <summary>Records a failure: the delivery waits <paramref name="delay"/>; the subscription is paused after <paramref name="pauseAfter"/> in a
    /// row.</summary>
    internal Task<SubscriptionRow> FailedAsync(Tx tx, long subscription, long delivery, int? status, string? error, int latency, TimeSpan delay,
        int pauseAfter, CancellationToken ct)
        => tx.QuerySingleAsync<SubscriptionRow>(FailedSql, new
        {
            subscription, id = delivery, status, error, latency, delayMs = (long)delay.TotalMilliseconds, pauseAfter,
        }, ct);

    internal Task ReleaseAsync(Tx tx, long subscription, Guid token, CancellationToken ct)
        => tx.ExecuteAsync("UPDATE webhook_subscriptions SET lease_token = NULL, leased_until = NULL WHERE id = @subscription AND lease_token = " +
            "@token",
            new { subscription, token }, ct);

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

    // NO KEY UPDATE: it excludes other nodes' claims but not the KEY SHARE lock that a writer's trigger takes to queue a
    // delivery for the subscription. A node that locks the row after another node leased it re-checks leased_until on
    // the new row version (READ COMMITTED) and skips it.
    const string LeaseSql = """
        WITH picked AS (
            SELECT s.id FROM webhook_subscriptions s
            WHERE s.state = 'active' AND (s.leased_until IS NULL OR s.leased_until <= clock_timestamp())
              AND (SELECT d.next_attempt_at FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending' ORDER BY d.id LIMIT 1)
                  <= clock_timestamp()
            ORDER BY s.id
            FOR NO KEY UPDATE SKIP LOCKED
            LIMIT 1
        )
        UPDATE webhook_subscriptions s SET lease_token = @token, leased_until = clock_timestamp() + @lease
        FROM picked WHERE s.id = picked.id
        RETURNING s.id, s.url, s.secret
        """;

    const string ClaimNextSql = """
        WITH head AS (
            SELECT d.id FROM webhook_deliveries d WHERE d.subscription_id = @subscription AND d.state = 'pending' ORDER BY d.id LIMIT 1
        )
        UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = clock_timestamp()
        FROM head, webhook_events e
        WHERE d.id = head.id AND d.next_attempt_at <= clock_timestamp() AND e.id = d.event_id
        RETURNING d.id, d.event_id, e.type, e.occurred_at, e.data::text AS data, d.attempts
        """;

    const string RenewSql = $"""
        UPDATE webhook_subscriptions SET leased_until = clock_timestamp() + @lease
        WHERE id = @subscription AND lease_token = @token AND leased_until > clock_timestamp()
        RETURNING {Columns}
        """;

    const string DeliveredSql = $"""
        UPDATE webhook_deliveries SET state = 'delivered', last_status = @status, last_error = NULL, latency_ms = @latency,
            delivered_at = clock_timestamp()
        WHERE id = @id;
        UPDATE webhook_subscriptions SET consecutive_failures = 0 WHERE id = @subscription
        RETURNING {Columns};
        """;

    const string FailedSql = $"""
        UPDATE webhook_deliveries SET last_status = @status, last_error = @error, latency_ms = @latency,
            next_attempt_at = clock_timestamp() + make_interval(secs => @delayMs / 1000.0)
        WHERE id = @id;
        UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1, updated_at = now(),
            state = CASE WHEN consecutive_failures + 1 >= @pauseAfter THEN 'paused' ELSE state END,
            paused_reason = CASE WHEN consecutive_failures + 1 >= @pauseAfter
                THEN format('Paused after %s failed deliveries in a row; last: %s', consecutive_failures + 1, @error) ELSE paused_reason END
        WHERE id = @subscription
        RETURNING {Columns};
        """;
}
