ALTER TABLE orders DROP COLUMN IF EXISTS order_status_v2;
