-- The rollback that was never tested: back to text. It rewrites the table a second time, and a value that
-- did not survive the way up (leading zeros, a non-numeric id) is not restored.
ALTER TABLE orders ALTER COLUMN transaction_id TYPE text USING transaction_id::text;
