-- rehearse:no-transaction
-- R017, safer: the column proved NOT NULL first — CHECK … NOT VALID, VALIDATE under
-- ShareUpdateExclusiveLock, SET NOT NULL (no scan: the validated CHECK proves it) — so the primary key
-- only attaches the index.
SET lock_timeout = '2s';
ALTER TABLE billing_events ADD COLUMN event_ref bigint;
UPDATE billing_events SET event_ref = event_id WHERE event_ref IS NULL;
CREATE UNIQUE INDEX CONCURRENTLY billing_events_event_ref_key ON billing_events (event_ref);
ALTER TABLE billing_events ADD CONSTRAINT billing_events_event_ref_present CHECK (event_ref IS NOT NULL) NOT VALID;
ALTER TABLE billing_events VALIDATE CONSTRAINT billing_events_event_ref_present;
ALTER TABLE billing_events ALTER COLUMN event_ref SET NOT NULL;
ALTER TABLE billing_events DROP CONSTRAINT billing_events_event_ref_present;
BEGIN;
ALTER TABLE billing_events DROP CONSTRAINT billing_events_pkey;
ALTER TABLE billing_events ADD CONSTRAINT billing_events_pkey PRIMARY KEY USING INDEX billing_events_event_ref_key;
COMMIT;
