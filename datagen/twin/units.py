"""Units of the load: a table's chunks in a range, COPYed on one connection; the same rows wherever they run.

A unit that holds a whole table TRUNCATEs and COPYs it in one transaction with FREEZE, as the built-in
dataset does: its rows are written frozen, so neither the template nor a clone rewrites them later for
hint bits or freezing. A table larger than its share of the workers is split into ranges of chunks loaded
at the same time by plain COPY (FREEZE needs the TRUNCATE's lock, which would serialise them). Partitioned
tables are loaded partition by partition, each a table of its own here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import psycopg
from psycopg.copy import QueuedLibpqWriter

from common.errors import BadInput, RehearsalError
from datagen import _pgbinary
from datagen.twin.chunk import TablePlan, binary_chunk, rows_in


@dataclass(frozen=True)
class Unit:
    table: int  # index into the list of table plans
    first: int  # first chunk
    stop: int  # one past the last chunk
    freeze: bool

    def rows(self, tables: list[TablePlan]) -> int:
        return sum(rows_in(tables[self.table], c) for c in range(self.first, self.stop))


def plan_units(tables: list[TablePlan], workers: int) -> list[Unit]:
    """Largest first (longest-processing-time-first), so the workers finish together."""
    total = max(1, sum(t.rows for t in tables))
    found = []
    for i, table in enumerate(tables):
        if table.rows <= 0:
            continue
        parts = min(table.chunks, math.ceil(table.rows * workers / total)) if workers > 1 else 1
        bounds = [round(p * table.chunks / parts) for p in range(parts + 1)]
        found += [Unit(i, a, b, parts == 1) for a, b in zip(bounds, bounds[1:]) if b > a]
    return sorted(found, key=lambda u: -u.rows(tables))


def run(url: str, tables: list[TablePlan], seed: int, unit: Unit, on_rows=None) -> tuple[int, float]:
    """Generate and COPY one unit (binary, FREEZE when it holds the whole table): (rows, seconds)."""
    table, clock, rows = tables[unit.table], time.monotonic(), 0
    with psycopg.connect(url) as conn:
        cur = conn.cursor()
        if unit.freeze:
            cur.execute(f"TRUNCATE {table.quoted}")
        # The queued writer sends on a thread while this one generates the next chunk.
        with cur.copy(table.copy_sql(unit.freeze), writer=QueuedLibpqWriter(cur)) as copy:
            copy.write(_pgbinary.HEADER)
            for chunk in range(unit.first, unit.stop):
                copy.write(binary_chunk(table, seed, chunk))
                rows += rows_in(table, chunk)
                if on_rows is not None:
                    on_rows(rows_in(table, chunk))
            copy.write(_pgbinary.TRAILER)
    return rows, time.monotonic() - clock


def failure(table: str, exc: psycopg.Error) -> dict:
    """What a worker reports of a failed unit (plain data: it crosses a pipe or a Dask cluster)."""
    return {"table": table, "sqlstate": exc.sqlstate, "constraint": exc.diag.constraint_name, "message": str(exc)}


def as_error(found: dict) -> RehearsalError:
    """Classified by SQLSTATE class, never by message text."""
    state, table, message = found.get("sqlstate") or "", found["table"], found["message"].strip().splitlines()
    first = message[0] if message else "no message"
    if state.startswith("23"):  # a CHECK or NOT NULL the generator missed
        return BadInput(
            f"{table}: generated rows violate {found.get('constraint') or 'a constraint'} ({first}); that CHECK "
            "is not understood by the generator — simplify it to ranges or IN-lists, or drop it from the "
            "profile's schema_sql"
        )
    if state.startswith("22"):
        return RehearsalError(f"{table}: generated value refused ({first}); report this profile as a bug")
    return RehearsalError(f"loading {table} failed: {first} (SQLSTATE {state or 'none'}); the next build starts afresh")
