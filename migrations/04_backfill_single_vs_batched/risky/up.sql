-- Migration-gone-wrong incident (a backfill under peak traffic): ADD COLUMN and a one-transaction backfill of every row.
-- The ACCESS EXCLUSIVE lock taken by ADD COLUMN is held until the UPDATE of the whole table commits.
ALTER TABLE orders ADD COLUMN order_status_v2 VARCHAR(20);
UPDATE orders SET order_status_v2 = order_status;
