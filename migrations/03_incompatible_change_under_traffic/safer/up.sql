-- rehearse:no-transaction
-- Compatible sequence, expand step: the new column arrives beside the old one and a trigger keeps them in
-- step, so both the old and the new application version work. The old column is dropped only once no
-- running code reads it (a later release).
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN status text;
CREATE FUNCTION orders_sync_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN  -- either version inserts: the old one names order_status, the new one status
        NEW.status := coalesce(NEW.status, NEW.order_status);
        NEW.order_status := coalesce(NEW.order_status, NEW.status);  -- before the NOT NULL check runs
    ELSIF NEW.order_status IS DISTINCT FROM OLD.order_status THEN
        NEW.status := NEW.order_status;
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.order_status := NEW.status;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER orders_sync_status BEFORE INSERT OR UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_sync_status();
CREATE PROCEDURE backfill_status(batch_size int, pause_s float8) LANGUAGE plpgsql AS $$
DECLARE
    next_id bigint := 0;
    last_id bigint := (SELECT max(order_id) FROM orders);
BEGIN
    WHILE next_id <= last_id LOOP
        UPDATE orders SET status = order_status
        WHERE order_id >= next_id AND order_id < next_id + batch_size AND status IS NULL;
        COMMIT;
        next_id := next_id + batch_size;
        PERFORM pg_sleep(pause_s);
    END LOOP;
END $$;
CALL backfill_status(2000, 0.05);
DROP PROCEDURE backfill_status(int, float8);
