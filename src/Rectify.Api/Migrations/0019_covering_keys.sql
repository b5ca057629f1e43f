-- Migration 0019: the keys of data_values and indicator_rollups carry the figures, so that a series (one indicator, one
-- unit, a range of periods) is read from the key alone (an index-only scan). Pushes arrive month by month, so one
-- series' rows lie on as many heap pages as it has months: at national scale a county's 48-month series read 55 pages
-- (3–10 ms) where the key holds it in two or three (0.24 ms; tests/Benchmarks/RESULTS.md). Upserts still name the same
-- key columns.
ALTER TABLE data_values DROP CONSTRAINT data_values_pkey,
    ADD CONSTRAINT data_values_pkey PRIMARY KEY (indicator_id, unit_code, period) INCLUDE (value);
ALTER TABLE indicator_rollups DROP CONSTRAINT indicator_rollups_pkey,
    ADD CONSTRAINT indicator_rollups_pkey PRIMARY KEY (indicator_id, unit_code, period) INCLUDE (total, mean);
