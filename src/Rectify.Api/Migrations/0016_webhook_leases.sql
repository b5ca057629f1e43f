-- 0016 Webhooks are delivered by lease instead of under a held row lock (issue 12). A node claims a subscription in a
-- short transaction (lease_token, leased_until) and commits before it sends; it records the outcome in a second short
-- transaction only while the lease is still its own. No transaction stays open during the HTTP call, so a slow
-- receiver no longer holds back the change feed's bound (the oldest running transaction). A node that dies mid-call
-- leaves a lease that expires; another node claims the subscription then and sends the event again (at least once).
ALTER TABLE webhook_subscriptions
    ADD COLUMN lease_token  uuid,
    ADD COLUMN leased_until timestamptz;
