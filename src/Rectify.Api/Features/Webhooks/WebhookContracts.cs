using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Rectify.Api.Features.Webhooks;

/// <summary>The events a subscription can ask for (what exists today; see the README for those still to come).</summary>
public static class WebhookEvents
{
    public const string IssueStateChanged = "issue.state-changed";
    public const string MeasureStateChanged = "measure.state-changed";
    public const string SnapshotPublished = "snapshot.published";
    public const string ImportCompleted = "import.completed";
    public const string ClientKeyRevoked = "client-key.revoked";
    public const string WarningLevelChanged = "warning.level-changed";

    public static readonly string[] All = [IssueStateChanged, MeasureStateChanged, SnapshotPublished, ImportCompleted, ClientKeyRevoked, WarningLevelChanged];
}

public sealed record CreateSubscriptionRequest
{
    [Description("Where events are POSTed: http or https, a host on the allow-list (Rectify:Webhooks:AllowedHosts).")]
    [StringLength(2000, MinimumLength = 1)]
    public required string Url { get; init; }

    [Description("Event types: issue.state-changed, measure.state-changed, snapshot.published, import.completed, client-key.revoked, warning.level-changed.")]
    [MinLength(1)]
    public required string[] EventTypes { get; init; }

    [Description("Only events of this unit and the units below it (events without a unit, such as import.completed, are not sent then).")]
    public string? Unit { get; init; }
}

/// <summary>A subscription; paused after repeated failures (pausedReason says why) until an admin resumes it.</summary>
public sealed record SubscriptionResponse(
    long Id, string Url, IReadOnlyList<string> EventTypes, string? Unit, string State, string? PausedReason, int ConsecutiveFailures,
    string CreatedBy, DateTime CreatedAt);

/// <summary>The new subscription and its signing secret, shown this once.</summary>
public sealed record SubscriptionCreatedResponse(SubscriptionResponse Subscription, string Secret);

/// <summary>One event for one subscription: its attempts so far, the last outcome, and when it is tried next.</summary>
public sealed record DeliveryResponse(
    long Id, Guid EventId, string EventType, DateTime OccurredAt, string State, int Attempts, int? LastStatus, string? LastError,
    int? LatencyMs, DateTime? LastAttemptAt, DateTime NextAttemptAt, DateTime? DeliveredAt);

public sealed class WebhookOptions
{
    public const string Section = "Rectify:Webhooks";

    /// <summary>Whether this node delivers (several nodes may; each subscription is delivered by one node at a time).</summary>
    public bool Deliver { get; set; } = true;

    /// <summary>Host names subscriptions may target ("*" for any name); an address must pass <see cref="AllowedNetworks"/> too.</summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>
    /// Networks (CIDR) allowed although they are loopback, private, link-local or metadata addresses, which are otherwise
    /// refused (e.g. 127.0.0.1/32 for a receiver on the same machine). Public addresses need no entry.
    /// </summary>
    public string[] AllowedNetworks { get; set; } = [];

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Bound of one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries inside one delivery (5xx, 408, 429 honouring Retry-After, timeouts), with exponential back-off and jitter.</summary>
    public int RetriesPerDelivery { get; set; } = 2;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Back-off between deliveries of a failed event: this, doubled per attempt, with jitter, at most <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Failed deliveries in a row after which a subscription is paused.</summary>
    public int PauseAfterFailures { get; set; } = 10;
}
