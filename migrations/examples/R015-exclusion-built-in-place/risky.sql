-- R015: an exclusion constraint builds its index and checks every row under AccessExclusiveLock, and
-- PostgreSQL has no CONCURRENTLY form for it.
ALTER TABLE orders ADD CONSTRAINT orders_one_per_transaction EXCLUDE USING btree (transaction_id WITH =);
