-- rehearse:no-transaction
-- The documented recovery: every step undone, whichever of them had run (IF EXISTS makes it safe to repeat).
DROP INDEX CONCURRENTLY IF EXISTS customers_email_key;
ALTER TABLE orders ALTER COLUMN currency DROP NOT NULL;
ALTER TABLE payments DROP COLUMN IF EXISTS settled_at;
