-- Keys and indexes, built after the load (much faster than maintaining them row by row).
-- order_items.order_id deliberately has NO foreign key: adding it is the migration of the Flyway incident
-- (a deployment that stopped on orphaned rows), and orphaned items are one of the optional kinds of dirt.
ALTER TABLE customers      ADD PRIMARY KEY (customer_id);
ALTER TABLE products       ADD PRIMARY KEY (product_id);
ALTER TABLE orders         ADD PRIMARY KEY (order_id);
ALTER TABLE order_items    ADD PRIMARY KEY (order_item_id);
ALTER TABLE payments       ADD PRIMARY KEY (payment_id);
ALTER TABLE billing_events ADD PRIMARY KEY (event_id);

CREATE INDEX customers_email_idx         ON customers (email);
CREATE UNIQUE INDEX products_sku_key     ON products (sku);
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at);
CREATE INDEX orders_created_at_idx       ON orders (created_at);
CREATE INDEX order_items_order_id_idx    ON order_items (order_id);
CREATE INDEX payments_order_id_idx       ON payments (order_id);
CREATE INDEX billing_events_order_id_idx ON billing_events (order_id);

ALTER TABLE orders         ADD CONSTRAINT orders_customer_id_fkey      FOREIGN KEY (customer_id) REFERENCES customers;
ALTER TABLE order_items    ADD CONSTRAINT order_items_product_id_fkey  FOREIGN KEY (product_id)  REFERENCES products;
ALTER TABLE payments       ADD CONSTRAINT payments_order_id_fkey       FOREIGN KEY (order_id)    REFERENCES orders;
ALTER TABLE billing_events ADD CONSTRAINT billing_events_order_id_fkey FOREIGN KEY (order_id)    REFERENCES orders;
