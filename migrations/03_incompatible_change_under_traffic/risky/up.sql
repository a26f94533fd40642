-- Cascading-failure incident (services failing one after another): a column the running application reads and writes is
-- renamed in the same deployment. Every old-version query naming order_status fails with 42703 from the
-- moment this commits.
ALTER TABLE orders RENAME COLUMN order_status TO status;
