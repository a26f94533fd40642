"""A statement's edges on the server's clock, free of the client's scheduling delays.

The executor shares its Python process with the application's threads: a statement's result can wait
milliseconds for the interpreter lock before `time.time()` runs (17 ms seen on a loaded 2-core machine),
and a lock's release is its COMMIT's end. Inside a transaction block the executor pipelines a
`clock_timestamp()` read before and after each statement, COMMIT and ROLLBACK included: the server runs
them back to back with it, so the edges are exact to a few microseconds. They are converted to the
client's clock (the sampler's and the application's) by the offset measured when the connection opened.
"""

from __future__ import annotations

import time

import psycopg

CLOCK = "SELECT extract(epoch FROM clock_timestamp())::float8"


def offset(conn, tries: int = 5) -> float:
    """Server clock − client clock, from the read with the shortest round trip (0 on one host, give or
    take a few microseconds)."""
    best = None
    for _ in range(tries):
        sent = time.time()
        server = conn.execute(CLOCK).fetchone()[0]
        back = time.time()
        if best is None or back - sent < best[0]:
            best = (back - sent, server - (sent + back) / 2)
    return best[1]


def execute(conn, sql: str, edges: dict, shift: float = 0.0):
    """Run `sql` (inside a transaction block) between two clock reads; `edges` gets `start` and, when it
    succeeded, `end`, on the client's clock (server − `shift`). Raises the statement's own error. In a
    failed transaction (nothing but ROLLBACK runs there) only the end is read."""
    error, aborted = None, conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    with conn.pipeline() as pipe:
        before = None if aborted else conn.execute(CLOCK)
        cur, after = conn.execute(sql), conn.execute(CLOCK)
        try:
            pipe.sync()
        except psycopg.Error as exc:  # raised outside the pipeline, which is then left cleanly
            error = exc
    if before is not None and not conn.broken:  # a terminated backend answered nothing
        edges["start"] = before.fetchone()[0] - shift
    if error is not None:
        raise error
    edges["end"] = after.fetchone()[0] - shift
    return cur
