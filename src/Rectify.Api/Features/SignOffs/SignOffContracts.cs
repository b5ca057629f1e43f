using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Rectify.Api.Features.Issues;
using Rectify.Api.Features.Measures;
using Rectify.Api.Infrastructure;

namespace Rectify.Api.Features.SignOffs;

/// <summary>Where a submission stands: pending until decided; superseded when a later submission replaced it undecided.</summary>
public enum SignOffStatus { Pending, Accepted, Rejected, ChangesRequested, Superseded }

/// <summary>The reviewer's answer to a submission: accept (the issue is closed, 已销号), reject, or request changes.</summary>
public enum SignOffDecision { Accept, Reject, RequestChanges }

/// <summary>The reviewer's answer to an evidence entry.</summary>
public enum EvidenceDecision { Accepted, Rejected }

/// <summary>An evidence entry a submission rests on, and for a file the version judged.</summary>
public sealed record SignOffEvidence
{
    [Description("Id of an evidence entry of one of the issue's measures.")]
    [Range(1, long.MaxValue)]
    public required long EvidenceId { get; init; }

    [Description("For an entry with a file: the file version the submission rests on.")]
    [Range(1, int.MaxValue)]
    public int? FileVersion { get; init; }
}

public sealed record SubmitSignOffRequest
{
    [Description("What was done and why the issue can be signed off (申请销号).")]
    [StringLength(5000, MinimumLength = 1)]
    public required string Summary { get; init; }

    [Description("The evidence entries (of the issue's measures) the submission rests on, each once.")]
    [MaxLength(500)]
    public IReadOnlyList<SignOffEvidence>? Evidence { get; init; }
}

public sealed record DecideSignOffRequest
{
    [Description("accept closes the issue (已销号); reject and request_changes send it back to in_progress.")]
    public required SignOffDecision Decision { get; init; }

    [Description("The reviewer's comment (审议意见); required.")]
    [StringLength(5000, MinimumLength = 1)]
    public required string Comment { get; init; }

    [Description("With accept only: consolidation (巩固) — the issue is listed as consolidating until this date (inclusive, not before today).")]
    public DateOnly? WatchUntil { get; init; }
}

public sealed record DecideEvidenceRequest
{
    [Description("accepted or rejected.")]
    public required EvidenceDecision Decision { get; init; }

    [Description("The reviewer's comment; required.")]
    [StringLength(2000, MinimumLength = 1)]
    public required string Comment { get; init; }
}

/// <summary>A submission for sign-off and, once made, its decision.</summary>
public sealed record SignOffResponse
{
    public required long Id { get; init; }
    public required long IssueId { get; init; }
    public required string Summary { get; init; }
    [Description("The evidence entries (and file versions) it rests on.")]
    public required IReadOnlyList<SignOffEvidence> Evidence { get; init; }
    [Description("The calling system that submitted it.")]
    public required string SubmittedBy { get; init; }
    public required DateTime SubmittedAt { get; init; }
    public required SignOffStatus Status { get; init; }
    [Description("The reviewing client that decided (never the submitter), once decided.")]
    public string? DecidedBy { get; init; }
    public DateTime? DecidedAt { get; init; }
    [Description("The reviewer's comment, once decided.")]
    public string? DecisionComment { get; init; }
    [Description("Set by an accept: consolidation (巩固) until this date.")]
    public DateOnly? WatchUntil { get; init; }
}

/// <summary>What the journal keeps of a sign-off step: the issue after it and the submission.</summary>
sealed record SignOffJournal(IssueResponse Issue, SignOffResponse SignOff);

sealed class SignOffRow
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public long Id { get; init; }
    public long IssueId { get; init; }
    public string Summary { get; init; } = "";
    public string Evidence { get; init; } = "[]";
    public string SubmittedBy { get; init; } = "";
    public DateTime SubmittedAt { get; init; }
    public string Status { get; init; } = "";
    public string? DecidedBy { get; init; }
    public DateTime? DecidedAt { get; init; }
    public string? DecisionComment { get; init; }
    public DateOnly? WatchUntil { get; init; }

    public SignOffStatus StatusValue => EnumText.Parse<SignOffStatus>(Status);

    public SignOffResponse ToResponse() => new()
    {
        Id = Id, IssueId = IssueId, Summary = Summary, Evidence = JsonSerializer.Deserialize<List<SignOffEvidence>>(Evidence, Json) ?? [],
        SubmittedBy = SubmittedBy, SubmittedAt = SubmittedAt, Status = StatusValue, DecidedBy = DecidedBy, DecidedAt = DecidedAt,
        DecisionComment = DecisionComment, WatchUntil = WatchUntil,
    };
}

/// <summary>An evidence entry, locked for its decision: who recorded it, to refuse that client deciding on it.</summary>
sealed class EvidenceRow
{
    public long Id { get; init; }
    public string RecordedBy { get; init; } = "";
}
