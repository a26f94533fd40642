-- The migration exactly as the incident's postmortem wrote its "fix": PostgreSQL has no
-- UPDATE … LIMIT, so this file is rejected before anything runs.
ALTER TABLE orders ADD COLUMN order_status_v2 VARCHAR(20);
UPDATE orders SET order_status_v2 = order_status
WHERE order_status_v2 IS NULL
LIMIT 1000;
