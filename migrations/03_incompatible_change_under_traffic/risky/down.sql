ALTER TABLE orders RENAME COLUMN status TO order_status;
