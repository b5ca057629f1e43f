using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Rectify.Api.Features.EvidenceFiles;

/// <summary>Settings of evidence files (section Rectify:EvidenceFiles).</summary>
public sealed class EvidenceFileOptions
{
    public const string Section = "Rectify:EvidenceFiles";

    /// <summary>Largest file, in bytes (20 MiB by default); a larger upload is a 413 problem.</summary>
    public long MaxBytes { get; set; } = 20L * 1024 * 1024;
}

/// <summary>A reviewer's verdict on a file version.</summary>
public enum FileDecision { Accepted, Rejected }

/// <summary>One version of an evidence file: what was uploaded (hash, size, name, type), by whom and when, and its review.</summary>
public sealed record FileVersionResponse
{
    /// <summary>The row's id, where the bytes are kept (not part of the API).</summary>
    internal long Id { get; init; }

    public required long MeasureId { get; init; }
    public required long EvidenceId { get; init; }
    [Description("1 for the first upload, then 2, 3, …; each upload is a new version and old versions stay readable.")]
    public required int Version { get; init; }
    [Description("SHA-256 of the bytes, lowercase hex; the download's ETag.")]
    public required string Sha256 { get; init; }
    [Description("Size in bytes.")]
    public required long Size { get; init; }
    [Description("The original file name, sanitised (no path, no control characters).")]
    public required string FileName { get; init; }
    [Description("The media type, as recognised from the bytes.")]
    public required string ContentType { get; init; }
    [Description("submitted until a reviewer decides; then accepted or rejected.")]
    public required string Status { get; init; }
    public required string UploadedBy { get; init; }
    public required DateTime UploadedAt { get; init; }
    public string? DecidedBy { get; init; }
    public DateTime? DecidedAt { get; init; }
    public string? DecisionComment { get; init; }
    [Description("The SHA-256 of the bytes the reviewer judged.")]
    public string? DecidedSha256 { get; init; }
}

public sealed record FileDecisionRequest
{
    [Description("accepted or rejected.")]
    public required FileDecision Decision { get; init; }

    [Description("Why; shown to the unit that uploaded.")]
    [StringLength(2000)]
    public string? Comment { get; init; }

    [Description("Optional: the SHA-256 of the bytes the reviewer looked at; a 409 when it is not this version's.")]
    [RegularExpression("^[0-9a-fA-F]{64}$")]
    public string? Sha256 { get; init; }
}
