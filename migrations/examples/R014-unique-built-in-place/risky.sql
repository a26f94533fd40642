-- R014: ADD CONSTRAINT … UNIQUE builds its index under AccessExclusiveLock: nobody reads or writes orders
-- until the build ends, and the build grows with the table.
ALTER TABLE orders ADD CONSTRAINT orders_order_created_key UNIQUE (order_id, created_at);
