-- 0004 Monthly progress snapshots (月度进展快照): the state of one round at the end of one month, drafted (pushed by
-- a scheduled job or drafted from live data by the month-end job), then published and frozen. A correction after
-- publication is a new revision with a reason; earlier revisions stay as they were.

CREATE TABLE snapshots (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round_id     bigint NOT NULL CONSTRAINT snapshots_round_exists REFERENCES rounds (id),
    period       text NOT NULL CONSTRAINT snapshots_period_format CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    revision     integer NOT NULL CONSTRAINT snapshots_revision_positive CHECK (revision >= 1),
    status       text NOT NULL CONSTRAINT snapshots_status_valid CHECK (status IN ('draft', 'published')),
    -- pushed: sent by a calling system (PUT); drafted: made from live data by the month-end job.
    origin       text NOT NULL CONSTRAINT snapshots_origin_valid CHECK (origin IN ('pushed', 'drafted')),
    narrative    text CONSTRAINT snapshots_narrative_length CHECK (length(narrative) <= 50000),
    -- The frozen state (SnapshotContent as JSON): what readers get, whatever the live rows do later.
    content      jsonb NOT NULL,
    -- SHA-256 of what was pushed, so that the same push twice is recognised and changes nothing.
    push_hash    bytea,
    reason       text CONSTRAINT snapshots_reason_length CHECK (length(reason) BETWEEN 1 AND 2000),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL,
    published_by text,
    published_at timestamptz,
    version      integer NOT NULL DEFAULT 1,
    CONSTRAINT snapshots_revision_unique UNIQUE (round_id, period, revision),
    CONSTRAINT snapshots_revision_has_reason CHECK (revision = 1 OR reason IS NOT NULL),
    CONSTRAINT snapshots_published_complete CHECK ((status = 'published') = (published_at IS NOT NULL AND published_by IS NOT NULL))
);
-- One draft at a time per round and month.
CREATE UNIQUE INDEX snapshots_one_draft ON snapshots (round_id, period) WHERE status = 'draft';
CREATE INDEX snapshots_round_period ON snapshots (round_id, period, revision DESC);

-- A published revision is a public record: the database refuses to change or remove it, whatever the caller.
CREATE FUNCTION snapshots_published_are_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'snapshot % of % revision % is published and cannot change', OLD.id, OLD.period, OLD.revision
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER snapshots_frozen BEFORE UPDATE OR DELETE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION snapshots_published_are_frozen();
