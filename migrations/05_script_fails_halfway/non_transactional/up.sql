-- rehearse:no-transaction
-- The same change written as separate auto-committed steps, with a concurrent unique index: when a step
-- fails, the earlier ones stay applied and CREATE UNIQUE INDEX CONCURRENTLY leaves an INVALID index behind.
ALTER TABLE payments ADD COLUMN settled_at timestamptz;
UPDATE payments SET settled_at = created_at WHERE status = 'captured';
CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON customers (email);
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
