-- Safer: add the constraint NOT VALID (a brief lock, no scan; new rows are checked from now on), then
-- VALIDATE it in its own transaction: SHARE UPDATE EXCLUSIVE on order_items, which lets the application
-- keep reading and writing while the existing rows are checked.
-- ADD CONSTRAINT locks order_items, then orders; the application writes orders, then order_items. Taking
-- orders first (the lock ADD CONSTRAINT would take anyway) keeps that opposite order from deadlocking
-- (40P01) with an order being placed: the rehearsal under traffic saw it happen.
BEGIN;
SET LOCAL lock_timeout = '2s';
LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;
ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey
    FOREIGN KEY (order_id) REFERENCES orders (order_id) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_fkey;
COMMIT;
