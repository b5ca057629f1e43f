-- 0009 The change feed and the webhook outbox, both written by the database in the writing transaction itself, so that
-- no code path can change a row without its change being recorded (and no commit can lose its events).
--
-- Every entry carries the id of the transaction that wrote it (pg_current_xact_id(), as bigint). The feed is read in
-- (xid, position) order and hides every entry at or above the oldest transaction still running
-- (pg_snapshot_xmin(pg_current_snapshot())): an id is taken before commit, so a transaction that commits late would
-- otherwise land behind a cursor that already passed it. Below that bound every transaction has ended, and every
-- transaction that has not yet written has a larger id: nothing can appear behind a cursor later.

CREATE FUNCTION current_xid() RETURNS bigint LANGUAGE sql VOLATILE AS $$ SELECT pg_current_xact_id()::text::bigint $$;

-- The oldest transaction still running, as seen by this statement's snapshot: entries at or above it are not shown yet.
CREATE FUNCTION change_feed_bound() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint
$$;

-- snake_case keys of a row's JSON to the API's camelCase (nested values are left as they are).
CREATE FUNCTION camel_keys(row_json jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(lower(left(k, 1)) || substr(replace(initcap(replace(k, '_', ' ')), ' ', ''), 2), v), '{}')
    FROM jsonb_each(row_json) AS e(k, v)
$$;

-- One entry per created, updated or deleted row of the tracked tables (data values are tracked on their own rows below).
CREATE TABLE changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid         bigint NOT NULL DEFAULT current_xid(),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    operation   text NOT NULL CONSTRAINT changes_operation_valid CHECK (operation IN ('created', 'updated', 'deleted')),
    -- The unit whose clients see the entry when reads are limited to units (see Caller.ReadableUnits).
    unit_code   text,
    -- What identifies the entity, kept for deletions (the row is gone then).
    key         jsonb NOT NULL
);
CREATE INDEX changes_feed ON changes (xid, id);
CREATE INDEX changes_entity ON changes (entity, entity_id, id);
CREATE INDEX changes_occurred ON changes (occurred_at);

-- Entries at or below this transaction id were pruned (retention): a cursor at or below it gets 410.
CREATE TABLE change_feed_horizon (
    one          boolean PRIMARY KEY DEFAULT true CONSTRAINT change_feed_horizon_one_row CHECK (one),
    pruned_below bigint NOT NULL DEFAULT 0,
    pruned_at    timestamptz
);
INSERT INTO change_feed_horizon DEFAULT VALUES;

-- Records the statement's rows: TG_ARGV[0] the entity, [1] the SQL of its key (over the row r), [2] the SQL of its
-- unit (over r) or NULL. One INSERT … SELECT per statement, however many rows it touched.
CREATE FUNCTION record_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    operation text := CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END;
    rows_from text := CASE TG_OP WHEN 'DELETE' THEN 'old_rows' ELSE 'new_rows' END;
BEGIN
    EXECUTE format(
        'INSERT INTO changes (entity, entity_id, operation, unit_code, key) SELECT %L, r.id::text, %L, %s, %s FROM %I r ORDER BY r.id',
        TG_ARGV[0], operation, coalesce(TG_ARGV[2], 'NULL'), TG_ARGV[1], rows_from);
    RETURN NULL;
END $$;

-- The tracked tables: entity name, key, unit. Three triggers each (a trigger with transition tables has one event).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('rounds', 'round', 'jsonb_build_object(''id'', r.id, ''code'', r.code)', 'r.inspected_unit_code'),
        ('issues', 'issue', 'jsonb_build_object(''id'', r.id, ''code'', r.code, ''roundId'', r.round_id)', 'r.lead_unit_code'),
        ('measures', 'measure', 'jsonb_build_object(''id'', r.id, ''code'', r.code, ''issueId'', r.issue_id)', 'r.owner_unit_code'),
        ('measure_progress', 'progress', 'jsonb_build_object(''id'', r.id, ''measureId'', r.measure_id)',
            '(SELECT m.owner_unit_code FROM measures m WHERE m.id = r.measure_id)'),
        ('measure_evidence', 'evidence', 'jsonb_build_object(''id'', r.id, ''measureId'', r.measure_id)',
            '(SELECT m.owner_unit_code FROM measures m WHERE m.id = r.measure_id)'),
        ('indicators', 'indicator', 'jsonb_build_object(''id'', r.id, ''code'', r.code)', NULL),
        ('snapshots', 'snapshot', 'jsonb_build_object(''id'', r.id, ''roundId'', r.round_id, ''period'', r.period, ''revision'', r.revision)', NULL),
        ('clients', 'client', 'jsonb_build_object(''id'', r.id, ''name'', r.name)', NULL)
    ) AS v(tbl, entity, key_sql, unit_sql)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_changes(%L, %L, %L)',
            t.tbl || '_changes_insert', t.tbl, t.entity, t.key_sql, t.unit_sql);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_changes(%L, %L, %L)',
            t.tbl || '_changes_update', t.tbl, t.entity, t.key_sql, t.unit_sql);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION record_changes(%L, %L, %L)',
            t.tbl || '_changes_delete', t.tbl, t.entity, t.key_sql, t.unit_sql);
        -- What exists now is where a consumer starting from the beginning starts: one entry per existing row.
        EXECUTE format('INSERT INTO changes (entity, entity_id, operation, unit_code, key) SELECT %L, r.id::text, %L, %s, %s FROM %I r ORDER BY r.id',
            t.entity, 'created', coalesce(t.unit_sql, 'NULL'), t.key_sql, t.tbl);
    END LOOP;
END $$;

-- Data values are written a million at a time: no entry per row. The row carries the id of the transaction that last
-- wrote it (a column default for inserts, a one-assignment row trigger for the rows an update really changed), and the
-- feed reads data_values and data_value_deletions themselves. BRIN: next to nothing to maintain during a push, and the
-- recent rows a follower asks for sit in the table's last, unsummarised ranges.
ALTER TABLE data_values ADD COLUMN change_xid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX data_values_change_xid ON data_values USING brin (change_xid) WITH (autosummarize = on);

CREATE FUNCTION data_values_stamp_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$;
CREATE TRIGGER data_values_change_xid BEFORE UPDATE ON data_values
    FOR EACH ROW EXECUTE FUNCTION data_values_stamp_xid();

ALTER TABLE data_value_deletions ADD COLUMN xid bigint;
UPDATE data_value_deletions SET xid = current_xid();
ALTER TABLE data_value_deletions ALTER COLUMN xid SET NOT NULL, ALTER COLUMN xid SET DEFAULT current_xid();
CREATE INDEX data_value_deletions_feed ON data_value_deletions (xid, id);
CREATE INDEX data_value_deletions_deleted ON data_value_deletions (deleted_at);

-- The caller of a change is the actor the journal names in the same transaction.
ALTER TABLE journal ADD COLUMN xid bigint;
ALTER TABLE journal ALTER COLUMN xid SET DEFAULT current_xid();
CREATE INDEX journal_xid ON journal (xid) WHERE xid IS NOT NULL;

-- Webhooks -----------------------------------------------------------------------------------------------------------

CREATE TABLE webhook_subscriptions (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                  text NOT NULL CONSTRAINT webhook_subscriptions_url_length CHECK (length(url) BETWEEN 1 AND 2000),
    event_types          text[] NOT NULL CONSTRAINT webhook_subscriptions_types_present CHECK (cardinality(event_types) >= 1),
    -- Events of this unit and the units below it only; NULL: every event.
    unit_code            text CONSTRAINT webhook_subscriptions_unit_exists REFERENCES units (code),
    -- The HMAC key: needed in clear to sign, so it is readable by whoever reads this table.
    secret               text NOT NULL,
    state                text NOT NULL DEFAULT 'active' CONSTRAINT webhook_subscriptions_state_valid CHECK (state IN ('active', 'paused')),
    paused_reason        text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per event, written by the triggers below in the transaction that made the change.
CREATE TABLE webhook_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT webhook_events_seq_unique UNIQUE,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    unit_code   text,
    data        jsonb NOT NULL
);

-- One row per event × matching subscription: what the worker delivers, and the delivery log.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES webhook_events (id),
    state           text NOT NULL DEFAULT 'pending' CONSTRAINT webhook_deliveries_state_valid CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    latency_ms      integer,
    delivered_at    timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (subscription_id, id) WHERE state = 'pending';

-- Queues an event for every subscription that wants it (type and unit), in the caller's transaction.
CREATE FUNCTION enqueue_webhook_events(events jsonb) RETURNS void LANGUAGE sql AS $$
    WITH added AS (
        INSERT INTO webhook_events (type, unit_code, data)
        SELECT e ->> 'type', e ->> 'unit', e -> 'data' FROM jsonb_array_elements(events) AS e
        RETURNING id, seq, type, unit_code
    )
    INSERT INTO webhook_deliveries (subscription_id, event_id)
    SELECT s.id, a.id FROM added a JOIN webhook_subscriptions s ON a.type = ANY (s.event_types)
    WHERE s.unit_code IS NULL OR a.unit_code IN (SELECT units_under(ARRAY[s.unit_code]))
    ORDER BY a.seq, s.id
$$;

-- Issue and measure state changes, from the statement's old and new rows.
CREATE FUNCTION issue_state_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'issue.state-changed', 'unit', n.lead_unit_code,
        'data', jsonb_build_object('previousState', o.state, 'issue', camel_keys(to_jsonb(n)))) ORDER BY n.id), '[]'))
    FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.state IS DISTINCT FROM n.state;
    RETURN NULL;
END $$;
CREATE TRIGGER issues_state_events AFTER UPDATE ON issues REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION issue_state_events();

CREATE FUNCTION measure_state_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'measure.state-changed', 'unit', n.owner_unit_code,
        'data', jsonb_build_object('previousState', o.state, 'measure', camel_keys(to_jsonb(n)))) ORDER BY n.id), '[]'))
    FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.state IS DISTINCT FROM n.state;
    RETURN NULL;
END $$;
CREATE TRIGGER measures_state_events AFTER UPDATE ON measures REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION measure_state_events();

-- A snapshot published (the revision's frozen content stays in the snapshot; the event names it).
CREATE FUNCTION snapshot_published_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'snapshot.published', 'unit', r.inspected_unit_code,
        'data', jsonb_build_object('snapshot', jsonb_build_object('id', n.id, 'round', r.code, 'period', n.period, 'revision', n.revision,
            'origin', n.origin, 'publishedBy', n.published_by, 'publishedAt', n.published_at))) ORDER BY n.id), '[]'))
    FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN rounds r ON r.id = n.round_id
    WHERE n.status = 'published' AND o.status IS DISTINCT FROM 'published';
    RETURN NULL;
END $$;
CREATE TRIGGER snapshots_published_events AFTER UPDATE ON snapshots REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION snapshot_published_events();

-- A client's key revoked (one event per key; revoking a client revokes its keys).
CREATE FUNCTION key_revoked_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'client-key.revoked', 'unit', NULL,
        'data', jsonb_build_object('client', jsonb_build_object('id', c.id, 'name', c.name), 'prefix', n.prefix, 'revokedAt', n.revoked_at))
        ORDER BY n.id), '[]'))
    FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN clients c ON c.id = n.client_id
    WHERE n.revoked_at IS NOT NULL AND o.revoked_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER api_keys_revoked_events AFTER UPDATE ON api_keys REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION key_revoked_events();

-- A push of data values applied: its summary counts, as the journal records them in the push's transaction.
CREATE FUNCTION import_completed_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM enqueue_webhook_events(coalesce(jsonb_agg(jsonb_build_object(
        'type', 'import.completed', 'unit', NULL,
        'data', jsonb_build_object('importId', n.entity_id, 'by', n.actor, 'summary', n.after)) ORDER BY n.id), '[]'))
    FROM new_rows n WHERE n.entity = 'data-values' AND n.action = 'import';
    RETURN NULL;
END $$;
CREATE TRIGGER journal_import_events AFTER INSERT ON journal REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION import_completed_events();
