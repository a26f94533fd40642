-- rehearse:no-transaction
-- R016, safer: NOT VALID (no scan, a moment of AccessExclusiveLock), then VALIDATE CONSTRAINT under
-- ShareUpdateExclusiveLock: reads and writes go on during the scan.
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_not_negative CHECK (total_amount >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_not_negative;
