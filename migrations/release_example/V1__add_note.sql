-- a nullable column: catalogue only
ALTER TABLE orders ADD COLUMN note text;
