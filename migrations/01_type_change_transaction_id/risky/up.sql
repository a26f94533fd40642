-- Billing incident (a type change that broke billing): transaction_id changed from text to bigint in one step, while the
-- running application still compares it with text columns and writes it as text.
-- Rewrites the whole orders table and its indexes under ACCESS EXCLUSIVE: nobody reads or writes orders
-- until it commits.
ALTER TABLE orders ALTER COLUMN transaction_id TYPE bigint USING transaction_id::bigint;
