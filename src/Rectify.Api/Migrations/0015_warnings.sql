-- 0015 Warnings (提醒预警): the warning level of an unfinished issue or measure, and the dated record of every change of it.
--
-- The level is derived at read time from the due date and "today" in the configured time zone, by one function that every
-- read uses (measures, issues, snapshots, the warnings list, the daily job), and the traffic light is derived from the level:
-- red and yellow are the same on both, notice and none show green.

-- red when overdue (due before today), yellow when due by yellow_until, notice when due by notice_until, NULL otherwise (and
-- without a due date). A plain SQL expression: the planner inlines it.
CREATE FUNCTION warning_level(due date, today date, yellow_until date, notice_until date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN due < today THEN 'red' WHEN due <= yellow_until THEN 'yellow' WHEN due <= notice_until THEN 'notice' END
$$;

-- The traffic light of an unfinished item at a warning level: red and yellow as the level, green for notice and none.
CREATE FUNCTION warning_light(level text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE level WHEN 'red' THEN 'red' WHEN 'yellow' THEN 'yellow' ELSE 'green' END
$$;

-- Every change of an item's level the daily job saw, dated by the day (in the configured time zone) it saw it: entering a
-- level (from none or another level) and leaving the warnings (to_level NULL: finished, or its due date moved away).
CREATE TABLE warning_changes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_kind       text NOT NULL CONSTRAINT warning_changes_kind_known CHECK (item_kind IN ('issue', 'measure')),
    item_id         bigint NOT NULL,
    round_id        bigint NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    code            text NOT NULL,
    -- The unit that owns the item (a measure's owner, an issue's lead unit) when the change was seen.
    owner_unit_code text,
    from_level      text CONSTRAINT warning_changes_from_known CHECK (from_level IN ('notice', 'yellow', 'red')),
    to_level        text CONSTRAINT warning_changes_to_known CHECK (to_level IN ('notice', 'yellow', 'red')),
    changed_on      date NOT NULL,
    due_date        date,
    -- Who the level escalates to (owner_unit, lead_unit, responsible_leader) and that unit's code or the leader, as configured then.
    escalate_to     text CONSTRAINT warning_changes_escalate_known CHECK (escalate_to IN ('owner_unit', 'lead_unit', 'responsible_leader')),
    escalation      text,
    recorded_at     timestamptz NOT NULL,
    CONSTRAINT warning_changes_is_change CHECK (from_level IS DISTINCT FROM to_level)
);
CREATE INDEX warning_changes_item ON warning_changes (item_kind, item_id, id);
CREATE INDEX warning_changes_round ON warning_changes (round_id, changed_on);

-- The days the daily job has run: one row a day, whichever node ran it.
CREATE TABLE warning_runs (
    run_on   date PRIMARY KEY,
    ran_at   timestamptz NOT NULL,
    recorded int NOT NULL
);

-- A level change is a business event: warning.level-changed, to the subscriptions of the owning unit (and those above it).
CREATE FUNCTION warning_change_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'warning.level-changed', 'unit', n.owner_unit_code,
        'data', jsonb_build_object('warning', jsonb_build_object(
            'id', n.id, 'kind', n.item_kind, 'itemId', n.item_id, 'round', r.code, 'code', n.code, 'ownerUnit', n.owner_unit_code,
            'from', n.from_level, 'to', n.to_level, 'changedOn', n.changed_on, 'dueDate', n.due_date,
            'escalateTo', n.escalate_to, 'escalation', n.escalation))) ORDER BY n.id), '[]'))
    FROM new_rows n JOIN rounds r ON r.id = n.round_id;
    RETURN NULL;
END $$;
CREATE TRIGGER warning_changes_events AFTER INSERT ON warning_changes REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION warning_change_events();
