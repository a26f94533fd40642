-- rehearse:no-transaction
-- Expand/contract, the expand release: a new nullable column (catalogue-only, instant), a trigger that
-- dual-writes it for every new or changed order, then a keyed, throttled backfill that commits each batch.
-- Reads switch to transaction_ref in the next application release; the old column is dropped two weeks later.
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN transaction_ref bigint;
CREATE FUNCTION orders_dual_write_transaction_ref() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.transaction_id ~ '^[0-9]{1,18}$' THEN
        NEW.transaction_ref := NEW.transaction_id::bigint;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER orders_dual_write_transaction_ref BEFORE INSERT OR UPDATE OF transaction_id ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_dual_write_transaction_ref();
CREATE PROCEDURE backfill_transaction_ref(batch_size int, pause_s float8) LANGUAGE plpgsql AS $$
DECLARE
    next_id bigint := 0;
    last_id bigint := (SELECT max(order_id) FROM orders);
BEGIN
    WHILE next_id <= last_id LOOP
        UPDATE orders SET transaction_ref = transaction_id::bigint
        WHERE order_id >= next_id AND order_id < next_id + batch_size
          AND transaction_ref IS NULL AND transaction_id ~ '^[0-9]{1,18}$';
        COMMIT;
        next_id := next_id + batch_size;
        PERFORM pg_sleep(pause_s);
    END LOOP;
END $$;
CALL backfill_transaction_ref(2000, 0.05);
DROP PROCEDURE backfill_transaction_ref(int, float8);
