-- rehearse:no-transaction
-- Safer: the column in its own short transaction, then keyed batches (the PostgreSQL form of the seed's
-- "UPDATE … LIMIT 1000": a range of the primary key), each committed, with a pause so the application
-- and autovacuum keep up.
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN order_status_v2 VARCHAR(20);
CREATE PROCEDURE backfill_order_status_v2(batch_size int, pause_s float8) LANGUAGE plpgsql AS $$
DECLARE
    next_id bigint := 0;
    last_id bigint := (SELECT max(order_id) FROM orders);
BEGIN
    WHILE next_id <= last_id LOOP
        UPDATE orders SET order_status_v2 = order_status
        WHERE order_id >= next_id AND order_id < next_id + batch_size AND order_status_v2 IS NULL;
        COMMIT;
        next_id := next_id + batch_size;
        PERFORM pg_sleep(pause_s);
    END LOOP;
END $$;
CALL backfill_order_status_v2(2000, 0.05);
DROP PROCEDURE backfill_order_status_v2(int, float8);
