using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Rectify.Api.Infrastructure;
using Rectify.Api.Infrastructure.Http;

namespace Rectify.Api.Features.Measures;

/// <summary>An action taken against one issue (整改措施).</summary>
public sealed record MeasureResponse
{
    public required long Id { get; init; }
    public required long IssueId { get; init; }
    [Description("Code of the round the issue belongs to.")]
    public required string Round { get; init; }
    [Description("Code unique under its issue, e.g. 1.2.")]
    public required string Code { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public required string OwnerUnit { get; init; }
    public required MeasureState State { get; init; }
    [Description("Progress in percent, 0–100.")]
    public required decimal Progress { get; init; }
    public DateOnly? StartDate { get; init; }
    public required DateOnly DueDate { get; init; }
    public DateOnly? CompletedOn { get; init; }
    public string? CancelReason { get; init; }
    [Description("Derived: not done or cancelled, and past its due date (today in the configured time zone).")]
    public required bool Overdue { get; init; }
    [Description("Derived: red when overdue, yellow when unfinished and due within the configured days (10 by default), green "
        + "otherwise; null when cancelled.")]
    public TrafficLight? TrafficLight { get; init; }
    public required IReadOnlyList<MeasureState> AllowedTransitions { get; init; }
    public required DateTime CreatedAt { get; init; }
    public required DateTime UpdatedAt { get; init; }

    [Description("Progress entries, oldest first (only on GET of one measure).")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ProgressEntryResponse>? ProgressEntries { get; init; }

    [Description("Evidence, oldest first (only on GET of one measure).")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<EvidenceResponse>? Evidence { get; init; }

    [Description("The due date before its first change through POST …/deadline; the due date itself while it never moved.")]
    public required DateOnly OriginalDueDate { get; init; }
    [Description("How many times the due date was deferred (moved to a later date) through POST …/deadline; moves to an earlier date do not count.")]
    public required int DeferralCount { get; init; }
    [Description("Derived warning level (提醒预警) while not done or cancelled: red when overdue, yellow when due within Rectify:DueSoonDays (10), "
        + "notice within Rectify:NoticeDays (20); null otherwise. The traffic light is red or yellow exactly when this is.")]
    public Warnings.WarningLevel? WarningLevel { get; init; }
}

/// <summary>One report of a measure's progress.</summary>
public sealed record ProgressEntryResponse
{
    public required long Id { get; init; }
    public required long MeasureId { get; init; }
    public required DateOnly ReportedOn { get; init; }
    public required decimal Percent { get; init; }
    public string? Note { get; init; }
    [Description("The calling system that reported it.")]
    public required string RecordedBy { get; init; }
    public required DateTime RecordedAt { get; init; }
}

/// <summary>A document or output that proves a measure (a regulation issued, a platform launched).</summary>
public sealed record EvidenceResponse
{
    public required long Id { get; init; }
    public required long MeasureId { get; init; }
    public required string Title { get; init; }
    public string? DocumentNumber { get; init; }
    public DateOnly? IssuedOn { get; init; }
    public string? Url { get; init; }
    [Description("The calling system that recorded it.")]
    public required string RecordedBy { get; init; }
    public required DateTime RecordedAt { get; init; }
    [Description("The review's latest decision on it (审议): submitted until a reviewer accepts or rejects it through "
        + "POST …/evidence/{evidenceId}/decision.")]
    public EvidenceStatus Status { get; init; }
    [Description("The reviewing client that decided, once decided.")]
    public string? DecidedBy { get; init; }
    public DateTime? DecidedAt { get; init; }
    [Description("The reviewer's comment on the decision.")]
    public string? DecisionComment { get; init; }
    [Description("How many file versions the entry has (PUT …/evidence/{evidenceId}/file); 0 without a file.")]
    public int FileVersions { get; init; }
    [Description("SHA-256 of the latest file version (its download's ETag); null without a file.")]
    public string? LatestFileSha256 { get; init; }
    [Description("The review status of the latest file version (submitted, accepted or rejected); null without a file.")]
    public string? LatestFileStatus { get; init; }
}

/// <summary>The review of an evidence entry: submitted until decided, then accepted or rejected.</summary>
public enum EvidenceStatus { Submitted, Accepted, Rejected }

/// <summary>The fields a caller sets on a measure, shared by create and update.</summary>
public abstract record MeasureFields
{
    [Description("The action, e.g. 整治殡葬乱象.")]
    [StringLength(500, MinimumLength = 1)]
    public required string Title { get; init; }

    [StringLength(20000)]
    public string? Description { get; init; }

    [Description("Code of the unit that owns the measure.")]
    [StringLength(32, MinimumLength = 1)]
    public required string OwnerUnit { get; init; }

    public DateOnly? StartDate { get; init; }

    public required DateOnly DueDate { get; init; }
}

public sealed record CreateMeasureRequest : MeasureFields
{
    [Description("Id of the issue the measure acts on.")]
    [Range(1, long.MaxValue)]
    public required long IssueId { get; init; }

    [Description("Code unique under the issue, e.g. 1.2.")]
    [Required(ErrorMessage = Codes.ItemPatternMessage)] // RegularExpression lets an empty string through
    [RegularExpression(Codes.ItemPattern, ErrorMessage = Codes.ItemPatternMessage)]
    public required string Code { get; init; }
}

public sealed record UpdateMeasureRequest : MeasureFields
{
    [Description("New state (see allowedTransitions). done sets progress to 100 and completedOn to today; cancelled needs cancelReason.")]
    public required MeasureState State { get; init; }

    [Description("Why the measure was cancelled; required when state is cancelled.")]
    [StringLength(2000, MinimumLength = 1)]
    public string? CancelReason { get; init; }
}

public sealed record AddProgressRequest
{
    [Description("Date the progress was reached (not in the future).")]
    public required DateOnly ReportedOn { get; init; }

    [Description("Progress in percent, 0–100, not below the measure's current progress. 100 completes the measure.")]
    [Range(typeof(decimal), "0", "100")]
    public required decimal Percent { get; init; }

    [StringLength(5000)]
    public string? Note { get; init; }
}

public sealed record AddEvidenceRequest
{
    [Description("Title of the document or output, e.g. 海南省公墓管理办法.")]
    [StringLength(500, MinimumLength = 1)]
    public required string Title { get; init; }

    [Description("Document number (文号), e.g. 琼民发〔2025〕12号.")]
    [StringLength(200)]
    public string? DocumentNumber { get; init; }

    public DateOnly? IssuedOn { get; init; }

    [Description("Absolute http(s) link to the document.")]
    [StringLength(2000)]
    [Url]
    public string? Url { get; init; }
}

public sealed record MeasureListQuery : PageRequest
{
    [Description("Only measures of this issue id.")]
    public long? Issue { get; init; }

    [Description("Only measures of this round (code).")]
    public string? Round { get; init; }

    [Description("Only measures owned by this unit (code).")]
    public string? OwnerUnit { get; init; }

    [Description("Only measures in this state.")]
    public string? State { get; init; }

    [Description("Only measures due on or before this date.")]
    public DateOnly? DueBefore { get; init; }

    [Description("Only measures due on or after this date.")]
    public DateOnly? DueAfter { get; init; }

    [Description("true: only overdue measures; false: only measures that are not overdue.")]
    public bool? Overdue { get; init; }

    [Description("Only measures with this traffic light.")]
    public string? TrafficLight { get; init; }

    [Description("true: only measures deferred at least once (deferralCount above 0); false: only measures never deferred.")]
    public bool? Deferred { get; init; }
    [Description("Only measures at this warning level (notice, yellow, red).")]
    public string? Warning { get; init; }
}

/// <summary>One line of a batch of progress entries: the measure and its entry.</summary>
public sealed record ProgressLine(long MeasureId, AddProgressRequest Request);

sealed class MeasureRow : IVersionedRow
{
    public long Id { get; init; }
    public long IssueId { get; init; }
    public string IssueState { get; init; } = "";
    public DateOnly? IssueClosedOn { get; init; }
    public string? IssueReviewer { get; init; }
    public string RoundCode { get; init; } = "";
    public string Code { get; init; } = "";
    public string Title { get; init; } = "";
    public string? Description { get; init; }
    public string OwnerUnitCode { get; init; } = "";
    public string State { get; init; } = "";
    public decimal Progress { get; init; }
    public DateOnly? StartDate { get; init; }
    public DateOnly DueDate { get; init; }
    public DateOnly? CompletedOn { get; init; }
    public string? CancelReason { get; init; }
    public int Version { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public bool Overdue { get; init; }
    public string? TrafficLight { get; init; }
    public DateOnly OriginalDueDate { get; init; }
    public int DeferralCount { get; init; }
    public string? WarningLevel { get; init; }

    /// <summary>409 (issue-closed) when the measure's issue is closed: see <see cref="Issues.IssueStates.EnsureOpen"/>.</summary>
    public void EnsureIssueOpen() => Issues.IssueStates.EnsureOpen(IssueId, IssueState, IssueClosedOn, IssueReviewer);

    public MeasureState StateValue => EnumText.Parse<MeasureState>(State);

    public MeasureResponse ToResponse() => new()
    {
        Id = Id, IssueId = IssueId, Round = RoundCode, Code = Code, Title = Title, Description = Description, OwnerUnit = OwnerUnitCode,
        State = StateValue, Progress = Progress, StartDate = StartDate, DueDate = DueDate, CompletedOn = CompletedOn,
        CancelReason = CancelReason, Overdue = Overdue,
        TrafficLight = TrafficLight is null ? null : EnumText.Parse<TrafficLight>(TrafficLight),
        AllowedTransitions = MeasureStates.AllowedFrom(StateValue), CreatedAt = CreatedAt, UpdatedAt = UpdatedAt,
        OriginalDueDate = OriginalDueDate, DeferralCount = DeferralCount,
        WarningLevel = WarningLevel is null ? null : EnumText.Parse<Warnings.WarningLevel>(WarningLevel),
    };
}
