-- 0008 Roll-ups: what a unit's sub-units combine to, per indicator and period, kept by the writer of data_values in
-- its own transaction, so that a series or a dashboard at a province reads one row per period instead of every
-- county's values.
--
-- A unit's figure is its own value when it has one, else its sub-units' figures combined (recursively), else none
-- (IndicatorSeries.UnitTree). A region combines only its sub-regions; any other unit combines all its sub-units. The
-- combination depends on the indicator's region aggregation, and a ratio combines its parts with its own: both
-- combinations are kept for every pushed indicator, so no change of an indicator's definition needs a recompute.

-- The units a unit's figure reaches, walking up while the edge combines (a region stops at a department above it),
-- itself included at distance 0, each with its depth in the tree (roots 0). Rebuilt whole by a trigger on units when
-- the tree changes: a few thousand rows.
CREATE TABLE unit_rollup_paths (
    unit_code      text NOT NULL,
    ancestor_code  text NOT NULL,
    distance       integer NOT NULL,
    ancestor_depth integer NOT NULL,
    PRIMARY KEY (unit_code, ancestor_code)
);
-- A unit's combining sub-units: ancestor_code = unit and distance = 1.
CREATE INDEX unit_rollup_paths_ancestor ON unit_rollup_paths (ancestor_code, distance, unit_code);

-- A unit's sub-units combined, for a unit with at least one combining sub-unit that has a figure: total as
-- region_aggregation = sum gives it, mean as average gives it (the average of the sub-units' figures, each rounded to
-- four places half to even, as decimal arithmetic does). Null where decimal would overflow (the figure is missing then,
-- as on read). No row: no sub-unit has a figure.
CREATE TABLE indicator_rollups (
    indicator_id bigint NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    unit_code    text NOT NULL,
    period       text NOT NULL,
    total        numeric,
    mean         numeric,
    PRIMARY KEY (indicator_id, unit_code, period)
);

CREATE FUNCTION unit_rollup_paths_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- Two transactions adding units at once rebuild one after the other (readers are not blocked): the second's
    -- statements, run after the first commits, see its rows.
    LOCK TABLE unit_rollup_paths IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM unit_rollup_paths;
    INSERT INTO unit_rollup_paths (unit_code, ancestor_code, distance, ancestor_depth)
    WITH RECURSIVE depths AS (
        SELECT code, 0 AS depth FROM units WHERE parent_code IS NULL
        UNION ALL
        SELECT u.code, d.depth + 1 FROM units u JOIN depths d ON u.parent_code = d.code WHERE d.depth < 64
    ),
    up AS (
        SELECT code AS unit_code, code AS ancestor_code, 0 AS distance FROM units
        UNION ALL
        SELECT up.unit_code, p.code, up.distance + 1
        FROM up JOIN units c ON c.code = up.ancestor_code JOIN units p ON p.code = c.parent_code
        WHERE (p.kind NOT IN ('province', 'city', 'district', 'county') OR c.kind IN ('province', 'city', 'district', 'county'))
          AND up.distance < 64
    )
    SELECT up.unit_code, up.ancestor_code, up.distance, d.depth FROM up JOIN depths d ON d.code = up.ancestor_code;
END
$$;

-- avg(values) rounded to four places as Math.Round(decimal average, 4) gives it: exact, half to even, and with
-- decimal's scale (an exact quotient keeps the scale of the sum when that is larger, up to four places).
CREATE FUNCTION rollup_mean(total numeric, n bigint) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN q.rem = 0 THEN round(q.quot * 0.0001, least(4, greatest(scale(total), scale(trim_scale(q.quot * 0.0001)))))
        WHEN 2 * abs(q.rem) > n OR (2 * abs(q.rem) = n AND mod(q.quot, 2) <> 0) THEN round((q.quot + sign(total)) * 0.0001, 4)
        ELSE round(q.quot * 0.0001, 4)
    END
    FROM (SELECT div(total * 10000, n) AS quot, total * 10000 - div(total * 10000, n) * n AS rem) q
$$;

-- Recomputes the roll-ups of the (indicator, unit, period) keys in the temporary table rollup_dirty and of every unit
-- they reach, deepest first, each level in one statement from its sub-units' values and roll-ups. Empties rollup_dirty.
-- Callers hold the push lock (every writer of data_values does).
CREATE FUNCTION indicator_rollups_refresh() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    level integer;
    rows bigint;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS rollup_work (indicator_id bigint, unit_code text, period text, depth integer) ON COMMIT DROP;
    TRUNCATE rollup_work;
    INSERT INTO rollup_work
    SELECT DISTINCT d.indicator_id, p.ancestor_code, d.period, p.ancestor_depth
    FROM rollup_dirty d JOIN unit_rollup_paths p ON p.unit_code = d.unit_code;
    GET DIAGNOSTICS rows = ROW_COUNT;
    TRUNCATE rollup_dirty;
    IF rows > 1000 THEN
        ANALYZE rollup_work; -- or the planner joins thousands of keys as if they were a handful
    END IF;
    FOR level IN SELECT DISTINCT depth FROM rollup_work ORDER BY depth DESC LOOP
        DELETE FROM indicator_rollups r USING rollup_work w
        WHERE w.depth = level AND r.indicator_id = w.indicator_id AND r.unit_code = w.unit_code AND r.period = w.period;
        INSERT INTO indicator_rollups (indicator_id, unit_code, period, total, mean)
        SELECT indicator_id, unit_code, period,
               CASE WHEN abs(sum(total)) <= 79228162514264337593543950335 THEN sum(total) END,
               CASE WHEN count(mean) > 0 AND abs(sum(mean)) <= 79228162514264337593543950335 THEN rollup_mean(sum(mean), count(mean)) END
        FROM (
            SELECT w.indicator_id, w.unit_code, w.period, v.value AS total, v.value AS mean
            FROM rollup_work w
            JOIN unit_rollup_paths c ON c.ancestor_code = w.unit_code AND c.distance = 1
            JOIN data_values v ON v.indicator_id = w.indicator_id AND v.unit_code = c.unit_code AND v.period = w.period
            WHERE w.depth = level
            UNION ALL
            SELECT w.indicator_id, w.unit_code, w.period, r.total, r.mean
            FROM rollup_work w
            JOIN unit_rollup_paths c ON c.ancestor_code = w.unit_code AND c.distance = 1
            JOIN indicator_rollups r ON r.indicator_id = w.indicator_id AND r.unit_code = c.unit_code AND r.period = w.period
            WHERE w.depth = level
              AND NOT EXISTS (SELECT 1 FROM data_values v WHERE v.indicator_id = r.indicator_id AND v.unit_code = r.unit_code AND v.period = r.period)
        ) parts
        GROUP BY indicator_id, unit_code, period;
    END LOOP;
END
$$;

-- Every roll-up recomputed from data_values: after a bulk load that bypassed the push (COPY), or to check the kept
-- ones. Idempotent.
CREATE FUNCTION indicator_rollups_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM unit_rollup_paths_rebuild();
    DELETE FROM indicator_rollups;
    CREATE TEMP TABLE IF NOT EXISTS rollup_dirty (indicator_id bigint, unit_code text, period text) ON COMMIT DROP;
    INSERT INTO rollup_dirty
    SELECT DISTINCT v.indicator_id, p.ancestor_code, v.period
    FROM data_values v JOIN unit_rollup_paths p ON p.unit_code = v.unit_code AND p.distance = 1;
    PERFORM indicator_rollups_refresh();
END
$$;

-- The tree changes outside the API only (migrations, loaders, an operator's SQL). Paths are rebuilt on every change;
-- a unit moved or re-kinded also has the roll-ups recomputed that it and its sub-units fed, before and after. A new
-- unit has no values yet and a unit with values cannot be deleted (data_values' foreign key), so neither changes a
-- roll-up. The push lock (DataValueMerge.PushLock) keeps a push from interleaving.
CREATE FUNCTION units_rollup_paths_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM unit_rollup_paths_rebuild();
    RETURN NULL;
END
$$;

CREATE FUNCTION units_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE moved ON COMMIT DROP AS
    SELECT n.code FROM new_units n JOIN old_units o ON o.code = n.code
    WHERE (o.parent_code, o.kind) IS DISTINCT FROM (n.parent_code, n.kind);
    IF NOT EXISTS (SELECT 1 FROM moved) AND NOT EXISTS (SELECT 1 FROM new_units n WHERE NOT EXISTS (SELECT 1 FROM old_units o WHERE o.code = n.code)) THEN
        DROP TABLE moved;
        RETURN NULL; -- names only
    END IF;
    PERFORM pg_advisory_xact_lock(5928218513788764163); -- 0x5245_4354_4946_0003, DataValueMerge's push lock
    CREATE TEMP TABLE IF NOT EXISTS rollup_dirty (indicator_id bigint, unit_code text, period text) ON COMMIT DROP;
    -- The keys a moved unit feeds: its own values and roll-ups, and its sub-units' (whose edge to it may change with its kind).
    CREATE TEMP TABLE moved_keys ON COMMIT DROP AS
    WITH fed AS (
        SELECT code FROM moved
        UNION SELECT u.code FROM units u JOIN moved m ON u.parent_code = m.code
    )
    SELECT v.indicator_id, v.period FROM data_values v JOIN fed ON fed.code = v.unit_code
    UNION
    SELECT r.indicator_id, r.period FROM indicator_rollups r JOIN fed ON fed.code = r.unit_code;
    -- What they fed before (the old paths: themselves and up) and feed now (themselves and up, after the rebuild).
    INSERT INTO rollup_dirty
    SELECT k.indicator_id, p.ancestor_code, k.period
    FROM moved_keys k CROSS JOIN moved m JOIN unit_rollup_paths p ON p.unit_code = m.code;
    PERFORM unit_rollup_paths_rebuild();
    INSERT INTO rollup_dirty SELECT k.indicator_id, m.code, k.period FROM moved_keys k CROSS JOIN moved m;
    PERFORM indicator_rollups_refresh();
    DROP TABLE moved_keys;
    DROP TABLE moved;
    RETURN NULL;
END
$$;

CREATE TRIGGER units_rollup_paths_insert AFTER INSERT ON units FOR EACH STATEMENT EXECUTE FUNCTION units_rollup_paths_changed();
CREATE TRIGGER units_rollup_paths_delete AFTER DELETE ON units FOR EACH STATEMENT EXECUTE FUNCTION units_rollup_paths_changed();
CREATE TRIGGER units_rollup_paths_update AFTER UPDATE ON units
    REFERENCING OLD TABLE AS old_units NEW TABLE AS new_units FOR EACH STATEMENT EXECUTE FUNCTION units_moved();

SELECT indicator_rollups_rebuild();
