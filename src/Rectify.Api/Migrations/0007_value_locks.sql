-- 0007 A published snapshot locks what it shows, no more: the values of the indicators it lists (a ratio's numerator
-- and denominator for a ratio), at its region and every unit below it, for the period it read. period_locks locked a
-- whole month of the whole database for every round, indicator and unit; it is replaced by a view over the published
-- snapshots themselves, whose content the snapshots_frozen trigger keeps as it was published.

-- The last month of a period: the month itself, the quarter's third month, a year's December.
CREATE FUNCTION period_last_month(period text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN period ~ '^[0-9]{4}-[0-9]{2}$' THEN period
        WHEN period ~ '^[0-9]{4}-Q[1-4]$' THEN left(period, 4) || '-' || lpad((substr(period, 7, 1)::int * 3)::text, 2, '0')
        WHEN period ~ '^[0-9]{4}$' THEN period || '-12'
    END
$$;

-- One row per published revision × locked indicator: values of indicator_id for period at region_code and below need
-- a revision reason. A snapshot shows a quarterly or yearly indicator at the quarter or year that holds its month; it
-- locks that period only in the snapshot of the period's last month (earlier months show a running figure that the
-- later months' pushes still complete). A round without a region shows no values and locks none.
CREATE VIEW value_locks AS
SELECT s.id AS snapshot_id, r.code AS round_code, s.period AS month, s.revision, s.published_at,
       s.content ->> 'region' AS region_code, part.indicator_id, shown.period
FROM snapshots s
JOIN rounds r ON r.id = s.round_id
CROSS JOIN LATERAL jsonb_to_recordset(s.content -> 'indicators') AS shown(code text, period text)
JOIN indicators i ON i.code = shown.code
CROSS JOIN LATERAL (VALUES (i.id), (i.numerator_id), (i.denominator_id)) AS part(indicator_id)
WHERE s.status = 'published'
  AND s.content ->> 'region' IS NOT NULL
  AND part.indicator_id IS NOT NULL
  AND period_last_month(shown.period) = s.period;

-- A push looks up the locks of the months it touches.
CREATE INDEX snapshots_published_month ON snapshots (period) WHERE status = 'published';

DROP TABLE period_locks;
