-- The data fix, released and reviewed on its own: orphans are kept aside, not silently destroyed.
CREATE TABLE order_items_orphaned AS
    SELECT oi.* FROM order_items oi
    WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = oi.order_id);
DELETE FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = oi.order_id);
