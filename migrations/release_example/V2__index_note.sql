-- a blocking index build on the busiest table
CREATE INDEX orders_note_idx ON orders (note);
