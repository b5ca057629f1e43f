-- 0014 Deadline changes (issue 11): the due date of an issue or a measure moves only through POST …/deadline, with a
-- reason, and every move is kept. A move to a later date is a deferral (延期); a move to an earlier one is kept too but
-- is not a deferral. An item's original due date and its number of deferrals are kept on the item, written by the same
-- statement that records the change, so that lists filter and count them without reading the history.

CREATE TABLE deadline_changes (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_id          bigint CONSTRAINT deadline_changes_issue_exists REFERENCES issues (id),
    measure_id        bigint CONSTRAINT deadline_changes_measure_exists REFERENCES measures (id),
    -- NULL when an issue without a due date gets its first one.
    previous_due_date date,
    due_date          date NOT NULL,
    reason            text NOT NULL CONSTRAINT deadline_changes_reason_length CHECK (length(reason) BETWEEN 1 AND 2000),
    deferral          boolean NOT NULL GENERATED ALWAYS AS (coalesce(due_date > previous_due_date, false)) STORED,
    changed_by        text NOT NULL,
    changed_at        timestamptz NOT NULL,
    CONSTRAINT deadline_changes_one_item CHECK ((issue_id IS NULL) <> (measure_id IS NULL)),
    CONSTRAINT deadline_changes_moves CHECK (previous_due_date IS DISTINCT FROM due_date)
);
CREATE INDEX deadline_changes_issue ON deadline_changes (issue_id, id) WHERE issue_id IS NOT NULL;
CREATE INDEX deadline_changes_measure ON deadline_changes (measure_id, id) WHERE measure_id IS NOT NULL;

-- original_due_date: the due date before the first change (NULL while the date never moved: it is the due date then).
ALTER TABLE issues
    ADD COLUMN original_due_date date,
    ADD COLUMN deferral_count integer NOT NULL DEFAULT 0 CONSTRAINT issues_deferral_count_valid CHECK (deferral_count >= 0);
ALTER TABLE measures
    ADD COLUMN original_due_date date,
    ADD COLUMN deferral_count integer NOT NULL DEFAULT 0 CONSTRAINT measures_deferral_count_valid CHECK (deferral_count >= 0);

-- The change feed follows deadline changes as it follows progress and evidence entries (see 0009).
CREATE TRIGGER deadline_changes_changes_insert AFTER INSERT ON deadline_changes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_changes('deadline-change',
        'jsonb_build_object(''id'', r.id, ''issueId'', r.issue_id, ''measureId'', r.measure_id)',
        'coalesce((SELECT i.lead_unit_code FROM issues i WHERE i.id = r.issue_id), (SELECT m.owner_unit_code FROM measures m WHERE m.id = r.measure_id))');

-- deadline.changed: one event per change, for the unit that leads the issue or owns the measure.
CREATE FUNCTION deadline_changed_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'deadline.changed',
        'unit', CASE WHEN n.issue_id IS NOT NULL THEN i.lead_unit_code ELSE m.owner_unit_code END,
        'data', jsonb_build_object('deadlineChange', camel_keys(to_jsonb(n)))) ORDER BY n.id), '[]'))
    FROM new_rows n
    LEFT JOIN issues i ON i.id = n.issue_id
    LEFT JOIN measures m ON m.id = n.measure_id;
    RETURN NULL;
END $$;
CREATE TRIGGER deadline_changes_events AFTER INSERT ON deadline_changes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION deadline_changed_events();
