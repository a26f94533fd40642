-- rehearse:no-transaction
-- R005, safer: a CHECK added NOT VALID (instant), validated under ShareUpdateExclusiveLock (reads and writes
-- go on), then SET NOT NULL, which since PostgreSQL 12 trusts the validated CHECK and skips the scan.
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_currency_not_null CHECK (currency IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_currency_not_null;
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_currency_not_null;
