"""The load: (table, chunk) units on N threads, each COPYing its CSV chunk on its own connection."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from tqdm import tqdm

from common.errors import BadInput, RehearsalError
from datagen.twin.chunk import TablePlan, csv_chunk, rows_in


def load(url: str, tables: list[TablePlan], seed: int, workers: int, progress: bool) -> dict[str, float]:
    """Seconds per table (summed over its chunks). Generation (numpy/Arrow) and COPY release the GIL, so
    threads overlap; every chunk's rows depend only on (seed, table, chunk), never on the worker."""
    units = [(t, c) for t in sorted(tables, key=lambda t: -t.rows) for c in range(t.chunks)]
    local, seconds, lock = threading.local(), {t.name: 0.0 for t in tables}, threading.Lock()
    bar = tqdm(total=sum(t.rows for t in tables), unit=" rows", unit_scale=True, disable=not progress, file=sys.stderr)
    connections: list[psycopg.Connection] = []

    def run(unit: tuple[TablePlan, int]) -> None:
        table, chunk = unit
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url, autocommit=True)
            with lock:
                connections.append(local.conn)
        clock = time.monotonic()
        _copy(local.conn, table, csv_chunk(table, seed, chunk))
        with lock:
            seconds[table.name] += time.monotonic() - clock
            bar.update(rows_in(table, chunk))

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(run, units))
    finally:
        bar.close()
        for conn in connections:
            conn.close()
    return seconds


def _copy(conn: psycopg.Connection, table: TablePlan, data: bytes) -> None:
    try:
        with conn.cursor().copy(table.copy_sql()) as copy:
            copy.write(data)
    except psycopg.errors.IntegrityError as exc:  # class 23: a CHECK or NOT NULL the generator missed
        raise BadInput(
            f"{table.name}: generated rows violate {exc.diag.constraint_name or 'a constraint'} "
            f"({exc.diag.message_primary}); that CHECK is not understood by the generator — simplify it "
            "to ranges or IN-lists, or drop it from the profile's schema_sql"
        ) from None
    except psycopg.errors.DataError as exc:  # class 22: a value the type refused
        raise RehearsalError(
            f"{table.name}: generated value refused ({exc.diag.message_primary}); report this profile as a bug"
        ) from None
