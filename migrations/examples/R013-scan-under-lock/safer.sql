-- rehearse:no-transaction
-- R013, safer: the CHECK added NOT VALID (no scan, a moment of AccessExclusiveLock), then validated under
-- ShareUpdateExclusiveLock: the scan still happens, but reads and writes go on during it.
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_total_not_negative CHECK (total_amount >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_not_negative;
