-- rehearse:no-transaction
-- R009, safer form of migrations/05_script_fails_halfway/transactional: the data is fixed before the
-- constraint that needs it, and each step is short and can be re-run. The fix for orders with no currency
-- was agreed with finance: 'XXX' is ISO 4217's "no currency". Try it with --dirt-null-currency 0.001.
SET lock_timeout = '2s';
ALTER TABLE payments ADD COLUMN IF NOT EXISTS settled_at timestamptz;
UPDATE orders SET currency = 'XXX' WHERE currency IS NULL;
ALTER TABLE orders ADD CONSTRAINT orders_currency_not_null CHECK (currency IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_currency_not_null;
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_currency_not_null;
