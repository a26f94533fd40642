-- Safer: add the constraint NOT VALID (a brief lock, no scan; new rows are checked from now on), then
-- VALIDATE it in its own transaction: SHARE UPDATE EXCLUSIVE on order_items, which lets the application
-- keep reading and writing while the existing rows are checked.
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey
    FOREIGN KEY (order_id) REFERENCES orders (order_id) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_fkey;
COMMIT;
