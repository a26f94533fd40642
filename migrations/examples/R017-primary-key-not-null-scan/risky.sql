-- rehearse:no-transaction
-- R017: a new key column, filled (in production in batches: see 04's safer backfill), indexed CONCURRENTLY,
-- then made the primary key. PRIMARY KEY USING INDEX sets the nullable column NOT NULL, which reads every
-- row of billing_events under AccessExclusiveLock.
SET lock_timeout = '2s';
ALTER TABLE billing_events ADD COLUMN event_ref bigint;
UPDATE billing_events SET event_ref = event_id WHERE event_ref IS NULL;
CREATE UNIQUE INDEX CONCURRENTLY billing_events_event_ref_key ON billing_events (event_ref);
BEGIN;
ALTER TABLE billing_events DROP CONSTRAINT billing_events_pkey;
ALTER TABLE billing_events ADD CONSTRAINT billing_events_pkey PRIMARY KEY USING INDEX billing_events_event_ref_key;
COMMIT;
