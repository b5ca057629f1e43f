namespace Rectify.Api.Infrastructure.Problems;

/// <summary>What each named database constraint means to a caller, so that its violation answers in domain terms.</summary>
static class ConstraintMessages
{
    static readonly Dictionary<string, Text> Messages = new(StringComparer.Ordinal)
    {
        ["units_pkey"] = "A unit with this code already exists.",
        ["units_parent_exists"] = "The parent unit does not exist.",
        ["rounds_code_unique"] = "A round with this code already exists.",
        ["rounds_inspected_unit_exists"] = "The inspected unit does not exist.",
        ["rounds_inspection_dates"] = "inspectionEnd must not be before inspectionStart.",
        ["rounds_feedback_after_inspection"] = "feedbackDate must not be before inspectionStart.",
        ["rounds_deadline_after_feedback"] = "rectificationDeadline must not be before feedbackDate.",
        ["issues_code_unique_in_round"] = "An issue with this code already exists in the round.",
        ["issues_parent_exists"] = "The parent issue does not exist.",
        ["issues_lead_unit_exists"] = "The lead unit does not exist.",
        ["measures_code_unique_in_issue"] = "A measure with this code already exists under the issue.",
        ["measures_owner_unit_exists"] = "The owner unit does not exist.",
        ["measures_due_after_start"] = "dueDate must not be before startDate.",
        ["measures_cancel_has_reason"] = "A cancelled measure needs a cancelReason.",
        ["measures_done_complete"] = "A done measure has progress 100.",
        ["measure_evidence_title_unique"] = "This measure already has evidence with the same title.",
    };

    public static Text? Describe(string? constraint) => constraint is not null && Messages.TryGetValue(constraint, out var message) ? message : null;
}
