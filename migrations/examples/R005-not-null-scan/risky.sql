-- R005: SET NOT NULL checks every row under AccessExclusiveLock: nobody reads or writes orders during the
-- scan, and a single NULL (run with --dirt-null-currency) fails the migration with 23502.
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
