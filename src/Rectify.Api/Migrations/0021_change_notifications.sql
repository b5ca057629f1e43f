-- Migration 0021: every change to what the API's answers are read from is announced on the channel rectify_changes, so
-- that each node's read cache (Infrastructure/Database/ReadCache.cs) forgets its kept answers whoever wrote: another
-- node, a background job, SQL by hand. One statement-level trigger per table; PostgreSQL sends a transaction's identical
-- notifications once, at commit, and none for a transaction that rolls back.
-- Not announced: bookkeeping that no cached answer reads and that changes on its own schedule (idempotency keys, the
-- journal, clients and keys, the change feed, webhooks, the warning job's runs); announcing them would only empty the
-- caches (the webhook dispatcher's polls alone, every second). A table added later gets a trigger in its migration
-- (Database/ChangeNotificationTests fails for one that has none and is not listed here).
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rectify_changes', '');
    RETURN NULL;
END $$;

DO $$
DECLARE
    announced regclass;
BEGIN
    FOR announced IN
        SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.relname NOT IN ('schema_versions', 'journal', 'idempotency_keys', 'clients', 'api_keys', 'changes',
                                'change_feed_horizon', 'webhook_subscriptions', 'webhook_events', 'webhook_deliveries', 'warning_runs')
    LOOP
        EXECUTE format('CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION notify_change()', announced);
    END LOOP;
END $$;
