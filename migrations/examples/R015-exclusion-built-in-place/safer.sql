-- rehearse:no-transaction
-- R015, safer: an exclusion whose operators are all "=" is a unique constraint, which can be built
-- CONCURRENTLY and attached. (With other operators, such as && on ranges, there is no online form: add it
-- in a quiet window with lock_timeout, its duration rehearsed at production size.)
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY orders_one_per_transaction ON orders (transaction_id);
ALTER TABLE orders ADD CONSTRAINT orders_one_per_transaction UNIQUE USING INDEX orders_one_per_transaction;
