-- R013: a plain (valid) CHECK constraint reads every row of orders to prove it, under AccessExclusiveLock:
-- nobody reads or writes orders for the whole scan. No static rule singles it out; the rehearsal measures
-- the scan under the lock, whatever the statement (UNIQUE, EXCLUDE and PRIMARY KEY USING INDEX on a
-- nullable column do the same).
ALTER TABLE orders ADD CONSTRAINT orders_total_not_negative CHECK (total_amount >= 0);
