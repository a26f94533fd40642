-- rehearse:no-transaction
SET lock_timeout = '2s';
DROP TRIGGER IF EXISTS orders_sync_status ON orders;
DROP FUNCTION IF EXISTS orders_sync_status();
DROP PROCEDURE IF EXISTS backfill_status(int, float8);
ALTER TABLE orders DROP COLUMN IF EXISTS status;
