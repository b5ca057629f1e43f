-- Evidence is judged (issue 11): each entry carries the reviewer's latest decision. Accepting an issue for sign-off
-- needs at least one accepted entry per done measure. File versions (a later migration) carry their own status; the
-- entry's status is the decision on what the entry shows now.
ALTER TABLE measure_evidence
    ADD COLUMN status           text NOT NULL DEFAULT 'submitted'
        CONSTRAINT measure_evidence_status_known CHECK (status IN ('submitted', 'accepted', 'rejected')),
    ADD COLUMN decided_by       text,
    ADD COLUMN decided_at       timestamptz,
    ADD COLUMN decision_comment text CONSTRAINT measure_evidence_decision_comment_length CHECK (length(decision_comment) <= 2000),
    ADD CONSTRAINT measure_evidence_decision_complete
        CHECK ((status = 'submitted') = (decided_by IS NULL AND decided_at IS NULL));
