-- Migration 0020: each snapshot's completion rate beside its content. The dashboard's trend and the snapshot list read
-- only that figure of each revision, and took it out of the content, which PostgreSQL had to decompress whole: at
-- national scale a snapshot's content is 179 kB of JSON (19 kB stored), 0.6–1.4 ms to read one rate, and a trend reads
-- up to a year of them (tests/Benchmarks/RESULTS.md). Derived by PostgreSQL from the content, so it cannot disagree with it;
-- adding it rewrites the table without firing the trigger that keeps published revisions frozen.
ALTER TABLE snapshots ADD COLUMN completion_rate numeric GENERATED ALWAYS AS (
    CASE WHEN jsonb_typeof(content -> 'summary' -> 'completionRate') = 'number'
         THEN (content -> 'summary' ->> 'completionRate')::numeric END) STORED;
