-- 0005 The units at and below given units, for clients whose reads are limited to their units
-- (Rectify:Access:ReadsLimitedToUnits). Queries filter with `unit IN (SELECT units_under(@readable))`, which
-- PostgreSQL evaluates once per statement.

CREATE FUNCTION units_under(roots text[]) RETURNS SETOF text LANGUAGE sql STABLE AS $$
    WITH RECURSIVE down AS (
        SELECT code FROM units WHERE code = ANY (roots)
        UNION
        SELECT u.code FROM units u JOIN down d ON u.parent_code = d.code
    )
    SELECT code FROM down
$$;
