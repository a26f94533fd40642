-- Ground truth for the fidelity benchmark: ACCESS EXCLUSIVE on orders held for a known time.
LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
SELECT pg_sleep(0.5);
