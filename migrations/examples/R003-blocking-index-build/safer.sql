-- rehearse:no-transaction
-- R003, safer: built CONCURRENTLY (ShareUpdateExclusiveLock: reads and writes go on). It cannot run inside a
-- transaction block; if it fails it leaves an INVALID index behind: DROP INDEX CONCURRENTLY it and retry.
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (order_status);
