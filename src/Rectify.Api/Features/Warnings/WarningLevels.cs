namespace Rectify.Api.Features.Warnings;

/// <summary>提醒 (notice), 黄色预警 (yellow), 红色预警 (red): how close an unfinished item is to, or how far past, its due date.</summary>
public enum WarningLevel { Notice, Yellow, Red }

/// <summary>
/// The one place warning levels and traffic lights are derived: every read of a measure or an issue, the snapshots, the
/// warnings list and the daily job select these expressions. They call the database's <c>warning_level</c> (thresholds
/// <c>@today</c>, <c>@dueSoon</c>, <c>@notice</c>, see <see cref="Measures.MeasureDay"/>) and <c>warning_light</c>, so that a
/// traffic light is red or yellow exactly when the level is.
/// </summary>
public static class WarningLevels
{
    /// <summary>A measure <c>m</c>'s level: none once done or cancelled.</summary>
    public const string Measure =
        "CASE WHEN m.state IN ('done', 'cancelled') THEN NULL ELSE warning_level(m.due_date, @today, @dueSoon, @notice) END";

    /// <summary>
    /// An issue <c>i</c>'s level: only while open or in progress, as its overdue flag (under review the work is handed in; a
    /// long-term issue has no deadline to miss).
    /// </summary>
    public const string Issue = "CASE WHEN i.state IN ('open', 'in_progress') THEN warning_level(i.due_date, @today, @dueSoon, @notice) END";

    /// <summary>A measure <c>m</c>'s traffic light: none when cancelled, green when done, else from its level.</summary>
    public const string MeasureLight =
        $"CASE WHEN m.state = 'cancelled' THEN NULL WHEN m.state = 'done' THEN 'green' ELSE warning_light({Measure}) END";

    /// <summary>An issue <c>i</c>'s traffic light (snapshots): none when closed, else from its level.</summary>
    public const string IssueLight = $"CASE WHEN i.state = 'closed' THEN NULL ELSE warning_light({Issue}) END";
}
