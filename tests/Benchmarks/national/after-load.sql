-- After values were loaded straight into data_values (COPY), around the push's merge: recompute the unit tree's
-- closure table and every roll-up (indicator_rollups, migration 0008) from data_values. Idempotent; one transaction.
-- About 40 s for 4.3 M values under 3,031 units on a loaded 2-core machine; it grows with the number of values.
BEGIN;
SELECT pg_advisory_xact_lock(5928218513788764163); -- the push lock (DataValueMerge.PushLock): no push interleaves
SELECT indicator_rollups_rebuild();
COMMIT;
ANALYZE indicator_rollups;
