-- R003: an index built in place. CREATE INDEX takes ShareLock on orders for the whole build, so every
-- INSERT, UPDATE and DELETE on orders waits until it finishes; the build time grows with the table.
CREATE INDEX orders_status_idx ON orders (order_status);
