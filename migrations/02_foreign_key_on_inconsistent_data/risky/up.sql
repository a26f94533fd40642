-- Flyway incident (a deployment stopped by orphaned rows): the foreign key added in one step on inconsistent data.
-- Takes SHARE ROW EXCLUSIVE on both tables (writes to both blocked) while it checks every row, and fails
-- with 23503 when an orphan exists.
ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey
    FOREIGN KEY (order_id) REFERENCES orders (order_id);
