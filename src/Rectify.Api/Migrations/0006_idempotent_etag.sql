-- 0006 A replayed create answers as the first one did, ETag included: the caller that retried after a lost answer can
-- go on to update the resource with If-Match.
ALTER TABLE idempotency_keys ADD COLUMN etag text;
