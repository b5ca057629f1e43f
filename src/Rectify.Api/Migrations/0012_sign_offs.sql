-- 0012 Sign-off review (审议 / 销号, issue 11): the unit that did the work submits an issue for sign-off with a summary and
-- the evidence it rests on; a reviewer (another client) accepts, rejects or requests changes, each with a comment. Every
-- submission and its decision is kept. Accepting closes the issue and may set a watch-until date (巩固): while today is on
-- or before it, the issue is consolidating.

CREATE TABLE sign_offs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_id         bigint NOT NULL CONSTRAINT sign_offs_issue_exists REFERENCES issues (id),
    summary          text NOT NULL CONSTRAINT sign_offs_summary_length CHECK (length(summary) BETWEEN 1 AND 5000),
    -- [{"evidenceId": 12, "fileVersion": 2}, …]: the evidence entries (and file versions) the submission rests on.
    evidence         jsonb NOT NULL DEFAULT '[]' CONSTRAINT sign_offs_evidence_array CHECK (jsonb_typeof(evidence) = 'array'),
    submitted_by     text NOT NULL,
    submitted_at     timestamptz NOT NULL,
    -- pending until decided; superseded when a later submission of the same issue replaced it undecided.
    status           text NOT NULL DEFAULT 'pending'
        CONSTRAINT sign_offs_status_known CHECK (status IN ('pending', 'accepted', 'rejected', 'changes_requested', 'superseded')),
    decided_by       text,
    decided_at       timestamptz,
    decision_comment text CONSTRAINT sign_offs_decision_comment_length CHECK (length(decision_comment) <= 5000),
    watch_until      date,
    CONSTRAINT sign_offs_decision_complete
        CHECK ((status IN ('pending', 'superseded')) = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT sign_offs_watch_only_accepted CHECK (watch_until IS NULL OR status = 'accepted')
);
CREATE INDEX sign_offs_issue ON sign_offs (issue_id, id);
CREATE INDEX sign_offs_submitted ON sign_offs (submitted_at);
CREATE INDEX sign_offs_decided ON sign_offs (decided_at) WHERE decided_at IS NOT NULL;

-- 巩固: the accepted sign-off's watch-until date, kept on the issue so that lists filter on it without reading history.
ALTER TABLE issues ADD COLUMN watch_until date;

-- The change feed follows sign-offs (submitted: created; decided: updated), for the unit that leads the issue.
DO $$
DECLARE
    op text;
BEGIN
    FOREACH op IN ARRAY ARRAY['insert', 'update'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON sign_offs REFERENCING %s NEW TABLE AS new_rows FOR EACH STATEMENT '
            || 'EXECUTE FUNCTION record_changes(%L, %L, %L)',
            'sign_offs_changes_' || op, upper(op), CASE op WHEN 'update' THEN 'OLD TABLE AS old_rows' ELSE '' END, 'sign-off',
            'jsonb_build_object(''id'', r.id, ''issueId'', r.issue_id)',
            '(SELECT i.lead_unit_code FROM issues i WHERE i.id = r.issue_id)');
    END LOOP;
END $$;

-- issue.sign-off-submitted and issue.sign-off-decided, for the unit that leads the issue.
CREATE FUNCTION sign_off_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
            'type', 'issue.sign-off-submitted', 'unit', i.lead_unit_code,
            'data', jsonb_build_object('signOff', camel_keys(to_jsonb(n)))) ORDER BY n.id), '[]'))
        FROM new_rows n JOIN issues i ON i.id = n.issue_id;
    ELSE
        PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
            'type', 'issue.sign-off-decided', 'unit', i.lead_unit_code,
            'data', jsonb_build_object('signOff', camel_keys(to_jsonb(n)))) ORDER BY n.id), '[]'))
        FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN issues i ON i.id = n.issue_id
        WHERE o.decided_at IS NULL AND n.decided_at IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sign_offs_submitted_events AFTER INSERT ON sign_offs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sign_off_events();
CREATE TRIGGER sign_offs_decided_events AFTER UPDATE ON sign_offs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sign_off_events();

-- measure.evidence-decided: a reviewer accepted or rejected an evidence entry, for the unit that owns the measure.
CREATE FUNCTION evidence_decided_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'measure.evidence-decided', 'unit', m.owner_unit_code,
        'data', jsonb_build_object('evidence', camel_keys(to_jsonb(n)))) ORDER BY n.id), '[]'))
    FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN measures m ON m.id = n.measure_id
    WHERE n.decided_at IS DISTINCT FROM o.decided_at AND n.decided_at IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER measure_evidence_decided_events AFTER UPDATE ON measure_evidence REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_decided_events();
