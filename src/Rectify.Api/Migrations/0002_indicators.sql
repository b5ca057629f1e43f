-- 0002 Indicators (指标) and their values per unit and period, the monthly push's staging, deletions kept for
-- readers who sync, and periods locked by a published snapshot.

CREATE TABLE indicators (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code               text NOT NULL CONSTRAINT indicators_code_unique UNIQUE
                       CONSTRAINT indicators_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    name_en            text CHECK (length(name_en) <= 300),
    description        text CHECK (length(description) <= 5000),
    measure_unit       text NOT NULL CHECK (length(measure_unit) BETWEEN 1 AND 20),
    value_type         text NOT NULL CONSTRAINT indicators_value_type_valid CHECK (value_type IN ('count', 'amount', 'percent', 'ratio')),
    frequency          text NOT NULL CONSTRAINT indicators_frequency_valid CHECK (frequency IN ('monthly', 'quarterly', 'yearly')),
    region_aggregation text NOT NULL CONSTRAINT indicators_region_aggregation_valid CHECK (region_aggregation IN ('sum', 'average', 'none')),
    time_aggregation   text NOT NULL CONSTRAINT indicators_time_aggregation_valid CHECK (time_aggregation IN ('flow', 'stock', 'cumulative')),
    direction          text NOT NULL CONSTRAINT indicators_direction_valid CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    target_value       numeric,
    target_date        date,
    baseline_value     numeric,
    baseline_period    text,
    numerator_id       bigint CONSTRAINT indicators_numerator_exists REFERENCES indicators (id),
    denominator_id     bigint CONSTRAINT indicators_denominator_exists REFERENCES indicators (id),
    reporting_day      smallint CONSTRAINT indicators_reporting_day_range CHECK (reporting_day BETWEEN 1 AND 28),
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- A ratio is numerator / denominator of two other indicators and is never pushed; nothing else has those.
    CONSTRAINT indicators_ratio_has_parts CHECK ((value_type = 'ratio') = (numerator_id IS NOT NULL AND denominator_id IS NOT NULL)),
    CONSTRAINT indicators_ratio_parts_distinct CHECK (numerator_id IS DISTINCT FROM id AND denominator_id IS DISTINCT FROM id),
    CONSTRAINT indicators_baseline_complete CHECK ((baseline_value IS NULL) = (baseline_period IS NULL))
);

-- The units expected to report an indicator, each by reporting_day of the month after the period.
CREATE TABLE indicator_reporters (
    indicator_id bigint NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    unit_code    text NOT NULL CONSTRAINT indicator_reporters_unit_exists REFERENCES units (code),
    PRIMARY KEY (indicator_id, unit_code)
);

CREATE TABLE indicator_issues (
    indicator_id bigint NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    issue_id     bigint NOT NULL CONSTRAINT indicator_issues_issue_exists REFERENCES issues (id),
    PRIMARY KEY (indicator_id, issue_id)
);
CREATE INDEX indicator_issues_issue ON indicator_issues (issue_id);

CREATE TABLE indicator_measures (
    indicator_id bigint NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    measure_id   bigint NOT NULL CONSTRAINT indicator_measures_measure_exists REFERENCES measures (id),
    PRIMARY KEY (indicator_id, measure_id)
);
CREATE INDEX indicator_measures_measure ON indicator_measures (measure_id);

-- One number: indicator × unit × period. The period's format matches the indicator's frequency
-- (YYYY-MM, YYYY-Qn, YYYY); the push checks that before anything lands.
CREATE TABLE data_values (
    indicator_id bigint NOT NULL CONSTRAINT data_values_indicator_exists REFERENCES indicators (id),
    unit_code    text NOT NULL CONSTRAINT data_values_unit_exists REFERENCES units (code),
    period       text NOT NULL CONSTRAINT data_values_period_format CHECK (period ~ '^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$'),
    value        numeric NOT NULL,
    comment      text CHECK (length(comment) <= 2000),
    source       text NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (indicator_id, unit_code, period)
);
CREATE INDEX data_values_unit_period ON data_values (unit_code, period);

-- Values removed by a delete push, for readers that sync (they learn what to drop).
CREATE TABLE data_value_deletions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    indicator_code text NOT NULL,
    unit_code      text NOT NULL,
    period         text NOT NULL,
    value          numeric NOT NULL,
    deleted_by     text NOT NULL,
    deleted_at     timestamptz NOT NULL
);

-- Periods frozen by a published snapshot: pushes for them need a revision reason.
CREATE TABLE period_locks (
    period    text PRIMARY KEY CONSTRAINT period_locks_period_format CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    locked_at timestamptz NOT NULL DEFAULT now(),
    locked_by text NOT NULL,
    reason    text
);
