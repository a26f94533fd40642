-- rehearse:no-transaction
-- Undo the expand step: nothing the old application uses was touched, so dropping the additions restores it.
SET lock_timeout = '2s';
DROP TRIGGER IF EXISTS orders_dual_write_transaction_ref ON orders;
DROP FUNCTION IF EXISTS orders_dual_write_transaction_ref();
DROP PROCEDURE IF EXISTS backfill_transaction_ref(int, float8);
ALTER TABLE orders DROP COLUMN IF EXISTS transaction_ref;
