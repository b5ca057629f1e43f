-- The dashboard's two costliest statements as PL/pgSQL functions (issue 13): PostgreSQL keeps a function's query plans
-- for the session, so with pooled connections that are not reset (No Reset On Close) a dashboard no longer plans
-- them on every request. Same statements as before, same results; they run in the caller's transaction and snapshot.

-- Each indicator linked to the round (through its issues or measures) with a target, at the round's region: the parts
-- (the indicator itself, or a ratio's numerator and denominator) in the latest three periods where every part has a
-- figure there (its own value, or the roll-up kept by the push).
CREATE FUNCTION dashboard_figures(p_round text)
RETURNS TABLE (indicator_id bigint, part text, period text, own numeric, total numeric, mean numeric)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE up AS (
        SELECT u.code, u.name, u.kind, u.parent_code, 0 AS depth
        FROM units u JOIN rounds r ON r.inspected_unit_code = u.code
        WHERE r.code = p_round
        UNION ALL
        SELECT p.code, p.name, p.kind, p.parent_code, up.depth + 1
        FROM units p JOIN up ON p.code = up.parent_code
        WHERE up.depth < 32
    ),
    region AS (
        SELECT code, name FROM up
        WHERE kind IN ('province', 'city', 'district', 'county')
        ORDER BY depth DESC
        LIMIT 1
    ),
    linked AS (
        SELECT ii.indicator_id
        FROM indicator_issues ii JOIN issues i ON i.id = ii.issue_id JOIN rounds r ON r.id = i.round_id
        WHERE r.code = p_round
        UNION
        SELECT im.indicator_id
        FROM indicator_measures im JOIN measures m ON m.id = im.measure_id JOIN issues i ON i.id = m.issue_id JOIN rounds r ON r.id = i.round_id
        WHERE r.code = p_round
    ),
    parts AS (
        SELECT ind.id AS indicator_id, ind.region_aggregation, part.id AS part_id
        FROM indicators ind
        JOIN linked l ON l.indicator_id = ind.id
        JOIN LATERAL (
            SELECT ind.id WHERE ind.value_type <> 'ratio'
            UNION SELECT ind.numerator_id WHERE ind.value_type = 'ratio'
            UNION SELECT ind.denominator_id WHERE ind.value_type = 'ratio'
        ) part (id) ON true
        WHERE ind.target_value IS NOT NULL
    ),
    -- The periods in which a part has a figure at the region: its own value, or (when the indicator combines
    -- regions) a roll-up, which exists where a sub-region has a value. Index range scans at one unit: no sub-region's rows.
    stored AS (
        SELECT p.indicator_id, p.part_id, v.period
        FROM parts p CROSS JOIN region
        JOIN data_values v ON v.indicator_id = p.part_id AND v.unit_code = region.code
        UNION
        SELECT p.indicator_id, p.part_id, r.period
        FROM parts p CROSS JOIN region
        JOIN indicator_rollups r ON r.indicator_id = p.part_id AND r.unit_code = region.code
        WHERE p.region_aggregation <> 'none'
    ),
    -- The latest periods in which every part has such a figure. Three, because a combined value can still come to
    -- nothing there (a ratio whose divisor is 0); the figure is the first of them that does not.
    candidates AS (
        SELECT indicator_id, period
        FROM (
            SELECT st.indicator_id, st.period, row_number() OVER (PARTITION BY st.indicator_id ORDER BY st.period DESC) AS recency
            FROM stored st
            GROUP BY st.indicator_id, st.period
            HAVING count(*) = (SELECT count(*) FROM parts p WHERE p.indicator_id = st.indicator_id)
        ) ranked
        WHERE recency <= 3
    )
    SELECT c.indicator_id, i.code AS part, c.period, v.value AS own, r.total, r.mean
    FROM candidates c
    JOIN parts p ON p.indicator_id = c.indicator_id
    JOIN indicators i ON i.id = p.part_id
    CROSS JOIN region
    LEFT JOIN data_values v ON v.indicator_id = p.part_id AND v.unit_code = region.code AND v.period = c.period
    LEFT JOIN indicator_rollups r ON r.indicator_id = p.part_id AND r.unit_code = region.code AND r.period = c.period;
END
$$;

-- Each top-level issue (area) of the round with its sub-issues and the measures of its whole tree.
CREATE FUNCTION dashboard_areas(p_round text, p_today date)
RETURNS TABLE (issue_id bigint, code text, title text, category text, state text, sub_issues int, measures int, done int,
               cancelled int, overdue int, progress numeric)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    -- The round's issues once (index on round_id), the areas' trees among them, and each issue's measures through
    -- the index on issue_id: the work grows with the round, not with the measures of every round.
    WITH RECURSIVE round_issues AS MATERIALIZED (
        SELECT i.id, i.parent_id, i.code, i.title, i.category, i.state
        FROM issues i JOIN rounds r ON r.id = i.round_id
        WHERE r.code = p_round
    ),
    tree AS (
        SELECT id, id AS area_id, 0 AS depth FROM round_issues WHERE parent_id IS NULL
        UNION ALL
        SELECT c.id, t.area_id, t.depth + 1
        FROM round_issues c JOIN tree t ON c.parent_id = t.id
        WHERE t.depth < 32
    ),
    figures AS (
        SELECT t.area_id, (count(*) - 1)::int AS sub_issues, sum(x.measures)::int AS measures, sum(x.done)::int AS done,
               sum(x.cancelled)::int AS cancelled, sum(x.overdue)::int AS overdue,
               round(sum(x.progress_sum) / nullif(sum(x.progress_count), 0), 2) AS progress
        FROM tree t
        CROSS JOIN LATERAL (
            SELECT count(*) AS measures,
                   count(*) FILTER (WHERE m.state = 'done') AS done,
                   count(*) FILTER (WHERE m.state = 'cancelled') AS cancelled,
                   count(*) FILTER (WHERE m.state NOT IN ('done', 'cancelled') AND m.due_date < p_today) AS overdue,
                   sum(m.progress) FILTER (WHERE m.state <> 'cancelled') AS progress_sum,
                   count(*) FILTER (WHERE m.state <> 'cancelled') AS progress_count
            FROM measures m WHERE m.issue_id = t.id
        ) x
        GROUP BY t.area_id
    )
    SELECT a.id AS issue_id, a.code, a.title, a.category, a.state, f.sub_issues, f.measures, f.done, f.cancelled, f.overdue, f.progress
    FROM figures f JOIN round_issues a ON a.id = f.area_id
    ORDER BY a.id;
END
$$;
