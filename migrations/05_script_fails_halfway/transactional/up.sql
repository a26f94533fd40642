-- Payment-processing incident (a script that failed half way), transactional form: three steps in one transaction.
-- The third fails on dirty data (orders with no currency), and PostgreSQL rolls all three back: nothing
-- half-done remains.
ALTER TABLE payments ADD COLUMN settled_at timestamptz;
UPDATE payments SET settled_at = created_at WHERE status = 'captured';
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
