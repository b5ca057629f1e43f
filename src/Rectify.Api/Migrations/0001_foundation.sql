-- 0001 The foundation: units, rounds, issues, measures with their progress and evidence, the journal,
-- and stored answers for idempotent creates. DbUp runs this script once, in one transaction.

CREATE TABLE units (
    code        text PRIMARY KEY CONSTRAINT units_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    name        text NOT NULL CONSTRAINT units_name_length CHECK (length(name) BETWEEN 1 AND 200),
    name_en     text CONSTRAINT units_name_en_length CHECK (length(name_en) <= 200),
    kind        text NOT NULL CONSTRAINT units_kind_valid
                CHECK (kind IN ('province', 'city', 'district', 'county', 'department', 'division', 'other')),
    parent_code text CONSTRAINT units_parent_exists REFERENCES units (code),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT units_not_own_parent CHECK (parent_code IS DISTINCT FROM code)
);
CREATE INDEX units_parent ON units (parent_code);

CREATE TABLE rounds (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                   text NOT NULL CONSTRAINT rounds_code_unique UNIQUE
                           CONSTRAINT rounds_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    name_en                text CHECK (length(name_en) <= 300),
    inspected_unit_code    text NOT NULL CONSTRAINT rounds_inspected_unit_exists REFERENCES units (code),
    inspection_body        text NOT NULL CHECK (length(inspection_body) BETWEEN 1 AND 300),
    inspection_start       date NOT NULL,
    inspection_end         date NOT NULL,
    feedback_date          date,
    rectification_deadline date,
    state                  text NOT NULL CONSTRAINT rounds_state_valid
                           CHECK (state IN ('planned', 'inspecting', 'rectifying', 'consolidating', 'closed')),
    version                integer NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rounds_inspection_dates CHECK (inspection_end >= inspection_start),
    CONSTRAINT rounds_feedback_after_inspection CHECK (feedback_date IS NULL OR feedback_date >= inspection_start),
    CONSTRAINT rounds_deadline_after_feedback CHECK (rectification_deadline IS NULL OR feedback_date IS NULL OR rectification_deadline >= feedback_date)
);

CREATE TABLE issues (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round_id            bigint NOT NULL REFERENCES rounds (id),
    parent_id           bigint CONSTRAINT issues_parent_exists REFERENCES issues (id),
    code                text NOT NULL CONSTRAINT issues_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description         text CHECK (length(description) <= 20000),
    category            text CHECK (length(category) BETWEEN 1 AND 100),
    lead_unit_code      text CONSTRAINT issues_lead_unit_exists REFERENCES units (code),
    responsible_leader  text CHECK (length(responsible_leader) <= 200),
    state               text NOT NULL CONSTRAINT issues_state_valid
                        CHECK (state IN ('open', 'in_progress', 'pending_review', 'closed', 'long_term')),
    due_date            date,
    review_requested_at timestamptz,
    review_requested_by text,
    review_note         text CHECK (length(review_note) <= 5000),
    closed_at           timestamptz,
    closed_on           date,
    reviewer            text CHECK (length(reviewer) <= 200),
    conclusion          text CHECK (length(conclusion) <= 5000),
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT issues_code_unique_in_round UNIQUE (round_id, code),
    CONSTRAINT issues_not_own_parent CHECK (parent_id IS DISTINCT FROM id),
    -- 销号 needs a reviewer, a date and a conclusion.
    CONSTRAINT issues_closed_has_review CHECK (state <> 'closed' OR (reviewer IS NOT NULL AND closed_on IS NOT NULL AND conclusion IS NOT NULL))
);
CREATE INDEX issues_round ON issues (round_id, id);
CREATE INDEX issues_parent ON issues (parent_id);
CREATE INDEX issues_lead_unit ON issues (lead_unit_code);

CREATE TABLE measures (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_id        bigint NOT NULL REFERENCES issues (id),
    code            text NOT NULL CONSTRAINT measures_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description     text CHECK (length(description) <= 20000),
    owner_unit_code text NOT NULL CONSTRAINT measures_owner_unit_exists REFERENCES units (code),
    state           text NOT NULL CONSTRAINT measures_state_valid
                    CHECK (state IN ('planned', 'in_progress', 'done', 'cancelled')),
    progress        numeric(5, 2) NOT NULL DEFAULT 0 CONSTRAINT measures_progress_range CHECK (progress BETWEEN 0 AND 100),
    start_date      date,
    due_date        date NOT NULL,
    completed_on    date,
    cancel_reason   text CHECK (length(cancel_reason) <= 2000),
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT measures_code_unique_in_issue UNIQUE (issue_id, code),
    CONSTRAINT measures_due_after_start CHECK (start_date IS NULL OR due_date >= start_date),
    CONSTRAINT measures_cancel_has_reason CHECK (state <> 'cancelled' OR cancel_reason IS NOT NULL),
    CONSTRAINT measures_done_complete CHECK (state <> 'done' OR progress = 100)
);
CREATE INDEX measures_issue ON measures (issue_id, id);
CREATE INDEX measures_owner_unit ON measures (owner_unit_code);
CREATE INDEX measures_due_date ON measures (due_date);

CREATE TABLE measure_progress (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    measure_id  bigint NOT NULL REFERENCES measures (id),
    reported_on date NOT NULL,
    percent     numeric(5, 2) NOT NULL CONSTRAINT measure_progress_percent_range CHECK (percent BETWEEN 0 AND 100),
    note        text CHECK (length(note) <= 5000),
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX measure_progress_measure ON measure_progress (measure_id, id);

CREATE TABLE measure_evidence (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    measure_id      bigint NOT NULL REFERENCES measures (id),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    document_number text CHECK (length(document_number) <= 200),
    issued_on       date,
    url             text CHECK (length(url) <= 2000),
    recorded_by     text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT measure_evidence_title_unique UNIQUE (measure_id, title)
);

-- Every change: who, when, what, before and after. Append-only: the application role may not rewrite it.
CREATE TABLE journal (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    action      text NOT NULL,
    before      jsonb,
    after       jsonb
);
CREATE INDEX journal_entity ON journal (entity, entity_id, id);
CREATE INDEX journal_occurred ON journal (occurred_at);

CREATE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION journal_is_append_only();

-- The first answer to a create sent with an Idempotency-Key, stored in the same transaction as the create.
CREATE TABLE idempotency_keys (
    caller       text NOT NULL,
    key          text NOT NULL,
    operation    text NOT NULL,
    request_hash bytea NOT NULL,
    status       integer,
    location     text,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
