-- Run before release: order items whose order does not exist. The foreign key cannot be added while any remain.
SELECT count(*) AS orphaned_items
FROM order_items oi
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = oi.order_id);
