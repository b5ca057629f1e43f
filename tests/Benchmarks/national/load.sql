-- The national benchmark's synthetic data set, generated set-based (generate_series) into a migrated, empty database.
-- psql variables: provinces, counties (per province), indicators (with values), months (ending with the month just
-- ended), rounds, issues (per round, a multiple of 4: a quarter areas, each with three sub-issues), measures (per issue).
--
-- The unit tree has three levels: the country (CN, kind other: not a region, so it combines its provinces), the
-- provinces (P01…, kind province) and their counties (P01C001…, kind county). Values are stored at the counties only,
-- so that every province and the country are roll-ups of their counties; every county is an expected reporter of
-- every indicator with values, and every value arrived on the 5th of the month after its period.
\set ON_ERROR_STOP on
\timing off

BEGIN;
INSERT INTO units (code, name, kind, parent_code) VALUES ('CN', '全国', 'other', NULL);
INSERT INTO units (code, name, kind, parent_code)
SELECT 'P' || lpad(p::text, 2, '0'), '省' || p, 'province', 'CN' FROM generate_series(1, :provinces) p;
INSERT INTO units (code, name, kind, parent_code)
SELECT 'P' || lpad(p::text, 2, '0') || 'C' || lpad(c::text, 3, '0'), '省' || p || '县' || c, 'county', 'P' || lpad(p::text, 2, '0')
FROM generate_series(1, :provinces) p, generate_series(1, :counties) c;

-- Indicators with values: seven in ten counts (summed flows), two amounts (summed stocks), one a percentage (averaged,
-- with a target).
INSERT INTO indicators (code, name, measure_unit, value_type, frequency, region_aggregation, time_aggregation, direction,
                        target_value, target_date, reporting_day)
SELECT 'IND-' || lpad(i::text, 4, '0'), '基准指标' || i,
       CASE WHEN i % 10 < 7 THEN '件' WHEN i % 10 < 9 THEN '万元' ELSE '%' END,
       CASE WHEN i % 10 < 7 THEN 'count' WHEN i % 10 < 9 THEN 'amount' ELSE 'percent' END,
       'monthly',
       CASE WHEN i % 10 = 9 THEN 'average' ELSE 'sum' END,
       CASE WHEN i % 10 < 7 THEN 'flow' ELSE 'stock' END,
       CASE WHEN i % 4 = 0 THEN 'lower_is_better' ELSE 'higher_is_better' END,
       CASE WHEN i % 10 = 9 THEN 95 END, CASE WHEN i % 10 = 9 THEN date '2027-12-31' END, 10
FROM generate_series(1, :indicators) i ORDER BY i;
-- Ratios of two counts (never pushed, computed on read): one for every 30 indicators.
INSERT INTO indicators (code, name, measure_unit, value_type, frequency, region_aggregation, time_aggregation, direction,
                        target_value, numerator_id, denominator_id)
SELECT 'RATIO-' || lpad(k::text, 3, '0'), '基准比率' || k, '%', 'ratio', 'monthly', 'sum', 'flow', 'higher_is_better', 100,
       (SELECT id FROM indicators WHERE code = 'IND-' || lpad((k * 10 - 9)::text, 4, '0')),
       (SELECT id FROM indicators WHERE code = 'IND-' || lpad((k * 10 - 8)::text, 4, '0'))
FROM generate_series(1, greatest(1, :indicators / 30)) k WHERE k * 10 - 8 <= :indicators;

INSERT INTO indicator_reporters (indicator_id, unit_code)
SELECT i.id, u.code FROM indicators i, units u WHERE i.value_type <> 'ratio' AND u.kind = 'county';

-- Rounds: each inspects a province (its region), under rectification since the spring of 2025.
INSERT INTO rounds (code, name, inspected_unit_code, inspection_body, inspection_start, inspection_end, feedback_date,
                    rectification_deadline, state)
SELECT 'R' || lpad(r::text, 3, '0'), '第' || r || '轮巡视', 'P' || lpad(((r - 1) % :provinces + 1)::text, 2, '0'), '巡视组' || r,
       date '2025-01-06', date '2025-03-28', date '2025-04-15', date '2026-04-15', 'rectifying'
FROM generate_series(1, :rounds) r ORDER BY r;
INSERT INTO issues (round_id, code, title, category, lead_unit_code, state, due_date)
SELECT r.id, a::text, '问题领域' || a, '领域' || a, r.inspected_unit_code, 'in_progress', current_date + 120
FROM rounds r, generate_series(1, :issues / 4) a ORDER BY r.id, a;
INSERT INTO issues (round_id, parent_id, code, title, category, lead_unit_code, state, due_date, closed_on, reviewer, conclusion)
SELECT i.round_id, i.id, i.code || '.' || s, '子问题' || i.code || '.' || s, i.category, i.lead_unit_code, st.state,
       current_date + ((i.id * 3 + s) % 60 - 20)::int,
       CASE WHEN st.state = 'closed' THEN current_date - 30 END, CASE WHEN st.state = 'closed' THEN '督查组' END,
       CASE WHEN st.state = 'closed' THEN '已整改到位' END
FROM issues i CROSS JOIN generate_series(1, 3) s
CROSS JOIN LATERAL (SELECT (ARRAY['open', 'in_progress', 'in_progress', 'pending_review', 'closed', 'long_term'])[(i.id * 3 + s) % 6 + 1] AS state) st
WHERE i.parent_id IS NULL ORDER BY i.id, s;

-- Measures: owned by counties of the round's province; every measure of a closed or reviewed issue is done.
INSERT INTO measures (issue_id, code, title, owner_unit_code, state, progress, start_date, due_date, completed_on, cancel_reason)
SELECT i.id, 'M' || k, '整改措施' || i.code || '-' || k,
       r.inspected_unit_code || 'C' || lpad(((i.id * 7 + k) % :counties + 1)::text, 3, '0'),
       m.state,
       CASE m.state WHEN 'done' THEN 100 WHEN 'in_progress' THEN (i.id + k) % 9 * 10 + 10 ELSE 0 END,
       date '2025-04-15', greatest(date '2025-04-15', current_date + ((i.id * 11 + k * 13) % 240 - 120)::int),
       CASE WHEN m.state = 'done' THEN least(current_date - 1, date '2025-05-01' + ((i.id + k) % 400)::int) END,
       CASE WHEN m.state = 'cancelled' THEN '与其他措施合并实施' END
FROM issues i JOIN rounds r ON r.id = i.round_id CROSS JOIN generate_series(1, :measures) k
CROSS JOIN LATERAL (SELECT CASE WHEN i.state IN ('closed', 'pending_review') THEN 'done'
                                ELSE (ARRAY['planned', 'in_progress', 'in_progress', 'done', 'cancelled'])[(i.id + k) % 5 + 1] END AS state) m
ORDER BY i.id, k;
INSERT INTO measure_progress (measure_id, reported_on, percent, note, recorded_by)
SELECT m.id, date '2025-05-01' + n * 60, least(m.progress, n * 40), '第' || n || '次进展：按计划推进', 'benchmark'
FROM measures m CROSS JOIN generate_series(1, 2) n WHERE m.state <> 'planned' ORDER BY m.id, n;
INSERT INTO measure_evidence (measure_id, title, document_number, issued_on, recorded_by)
SELECT m.id, '整改佐证材料', '基准〔2025〕' || m.id || '号', m.completed_on, 'benchmark' FROM measures m WHERE m.state = 'done';

-- Each area is linked to an indicator, the first area of a round also to a ratio (shown by the dashboard and snapshots).
INSERT INTO indicator_issues (indicator_id, issue_id)
SELECT ind.id, i.id FROM issues i
JOIN indicators ind ON ind.code = 'IND-' || lpad(((i.round_id * 7 + i.code::int) % :indicators + 1)::text, 4, '0')
WHERE i.parent_id IS NULL;
INSERT INTO indicator_issues (indicator_id, issue_id)
SELECT ind.id, i.id FROM issues i
JOIN indicators ind ON ind.code = 'RATIO-' || lpad(((i.round_id - 1) % greatest(1, :indicators / 30) + 1)::text, 3, '0')
WHERE i.parent_id IS NULL AND i.code = '1';
COMMIT;

-- The values: indicators × counties × months. Loaded the way a bulk load is done: without the table's indexes and
-- foreign keys (put back, with their own names and definitions, below) and, with wal_level=minimal, into a table
-- truncated in the same transaction (so without WAL).
SELECT now() AS values_start \gset
BEGIN;
ALTER TABLE data_values DROP CONSTRAINT data_values_pkey, DROP CONSTRAINT data_values_indicator_exists,
    DROP CONSTRAINT data_values_unit_exists;
DROP INDEX data_values_unit_period;
TRUNCATE data_values;
CREATE TEMP TABLE bench_months ON COMMIT DROP AS
SELECT m AS n, to_char(date_trunc('month', current_date) - make_interval(months => :months - m), 'YYYY-MM') AS period,
       (date_trunc('month', current_date) - make_interval(months => :months - m - 1) + interval '4 days 9 hours')::timestamptz AS arrived
FROM generate_series(0, :months - 1) m;
CREATE TEMP TABLE bench_counties ON COMMIT DROP AS
SELECT code, row_number() OVER (ORDER BY code) AS n FROM units WHERE kind = 'county';
CREATE TEMP TABLE bench_valued ON COMMIT DROP AS
SELECT id, value_type = 'percent' AS percent FROM indicators WHERE value_type <> 'ratio';
INSERT INTO data_values (indicator_id, unit_code, period, value, source, created_at, updated_at)
SELECT i.id, u.code, p.period,
       CASE WHEN i.percent THEN ((i.id * 7919 + u.n * 104729 + p.n * 31) % 10000) / 100.0
            ELSE ((i.id * 7919 + u.n * 104729 + p.n * 31) % 1000000) / 100.0 + p.n END,
       'benchmark', p.arrived, p.arrived
FROM bench_months p CROSS JOIN bench_valued i CROSS JOIN bench_counties u;
COMMIT;
SELECT now() AS keys_start \gset
ALTER TABLE data_values ADD CONSTRAINT data_values_pkey PRIMARY KEY (indicator_id, unit_code, period) INCLUDE (value); -- as migration 0019
CREATE INDEX data_values_unit_period ON data_values (unit_code, period);
ALTER TABLE data_values ADD CONSTRAINT data_values_indicator_exists FOREIGN KEY (indicator_id) REFERENCES indicators (id),
    ADD CONSTRAINT data_values_unit_exists FOREIGN KEY (unit_code) REFERENCES units (code);
SELECT format('   values %s rows: inserted in %s s, keys and indexes in %s s',
              (SELECT to_char(count(*), 'FM999,999,999,999') FROM data_values),
              round(extract(epoch FROM :'keys_start'::timestamptz - :'values_start'::timestamptz)::numeric, 1),
              round(extract(epoch FROM clock_timestamp() - :'keys_start'::timestamptz)::numeric, 1)) AS line \gset
\echo :line
