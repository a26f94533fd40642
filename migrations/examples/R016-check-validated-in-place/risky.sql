-- R016: a plain CHECK constraint is proved before ALTER TABLE returns: every row of orders is read under
-- AccessExclusiveLock.
ALTER TABLE orders ADD CONSTRAINT orders_amount_not_negative CHECK (total_amount >= 0);
