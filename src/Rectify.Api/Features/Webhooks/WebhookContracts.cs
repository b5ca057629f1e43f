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
    /// <summary>An issue's or a measure's due date moved through POST …/deadline (data: deadlineChange).</summary>
    public const string DeadlineChanged = "deadline.changed";

    /// <summary>A measure or an issue entered a new warning level (data: the recorded level change).</summary>
    public const string WarningLevelChanged = "warning.level-changed";

    /// <summary>A new version of an evidence file was uploaded (data: evidenceFile, its metadata without the bytes).</summary>
    public const string EvidenceFileUploaded = "measure.evidence-file-uploaded";

    /// <summary>An issue submitted for sign-off (data: signOff).</summary>
    public const string IssueSignOffSubmitted = "issue.sign-off-submitted";

    /// <summary>A sign-off submission decided: accepted, rejected or changes requested (data: signOff).</summary>
    public const string IssueSignOffDecided = "issue.sign-off-decided";

    /// <summary>An evidence entry of a measure accepted or rejected by a reviewer (data: evidence).</summary>
    public const string MeasureEvidenceDecided = "measure.evidence-decided";

    public static readonly string[] All =
    [
        IssueStateChanged, MeasureStateChanged, SnapshotPublished, ImportCompleted, ClientKeyRevoked, DeadlineChanged, WarningLevelChanged,
        IssueSignOffSubmitted, IssueSignOffDecided, MeasureEvidenceDecided, EvidenceFileUploaded,
    ];
}

public sealed record CreateSubscriptionRequest
{
    [Description("Where events are POSTed: http or https, a host on the allow-list (Rectify:Webhooks:AllowedHosts).")]
    [StringLength(2000, MinimumLength = 1)]
    public required string Url { get; init; }

    [Description("Event types: issue.state-changed, measure.state-changed, snapshot.published, import.completed, client-key.revoked, "
        + "deadline.changed, warning.level-changed, issue.sign-off-submitted, issue.sign-off-decided, measure.evidence-decided, "
        + "measure.evidence-file-uploaded.")]
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

    /// <summary>
    /// How long a node owns a subscription it claimed to deliver (renewed with every outcome it records). It must exceed
    /// <see cref="AttemptTimeout"/>: a node gives up a call before its lease ends; a node that dies leaves the lease to
    /// expire, after which another node sends the event again.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>A subscription as stored (its secret and lease aside).</summary>
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

/// <summary>A subscription claimed for delivery: where to send and the key to sign with.</summary>
sealed class LeasedSubscription
{
    public long Id { get; init; }
    public string Url { get; init; } = "";
    public string Secret { get; init; } = "";
}

/// <summary>The delivery a lease holder sends next (its attempt already counted).</summary>
sealed class DueDelivery
{
    public long Id { get; init; }
    public Guid EventId { get; init; }
    public string Type { get; init; } = "";
    public DateTime OccurredAt { get; init; }
    public string Data { get; init; } = "{}";
    public int Attempts { get; init; }
}
