-- rehearse:no-transaction
-- R014, safer: the unique index built CONCURRENTLY (reads and writes go on), then attached as the
-- constraint, which only needs a moment of AccessExclusiveLock.
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY orders_order_created_key ON orders (order_id, created_at);
ALTER TABLE orders ADD CONSTRAINT orders_order_created_key UNIQUE USING INDEX orders_order_created_key;
