"""A loading process's two stages: it generates on its main thread while one connection, on a second
thread, COPYs what it generated before. A worker so loads the last table while it makes the next one (a
unit is often a single chunk, which alone would leave generation and COPY taking turns), and connects once.

The main thread puts, per unit: the unit, then each chunk's bytes, then END (or ABORT when generating
failed: the unit's transaction is rolled back). A bounded queue keeps memory to a few chunks.
"""

from __future__ import annotations

import queue
import threading
import time

import psycopg

from datagen import _pgbinary
from datagen.twin import units
from datagen.twin.chunk import TablePlan

DEPTH = 4  # chunks (about 8 MB each) generated ahead of the COPY
END, ABORT = "end", "abort"


class Aborted(Exception):
    """Generation failed in the middle of a unit: roll its COPY back."""


class Loader:
    """COPYs units in the order they are put, on one connection and thread; `send(event, **data)` reports
    rows, done and failed as the one-unit path (units.run) does."""

    def __init__(self, url: str, tables: list[TablePlan], send) -> None:
        self.url, self.tables, self.send = url, tables, send
        self.queue: queue.Queue = queue.Queue(maxsize=DEPTH)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def put(self, item) -> None:
        self.queue.put(item)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def _run(self) -> None:
        try:
            conn = psycopg.connect(self.url)
        except psycopg.Error as exc:
            self.send("failed", **units.failure("the server", exc))
            while self.queue.get() is not None:
                pass  # let the main thread finish; the parent ends this process on the failure
            return
        with conn:
            while (item := self.queue.get()) is not None:
                self._unit(conn, *item)

    def _unit(self, conn: psycopg.Connection, unit: units.Unit, started: float) -> None:
        table, rows, ended = self.tables[unit.table], 0, False
        try:
            with conn.transaction():
                cur = conn.cursor()
                if unit.freeze:
                    cur.execute(f"TRUNCATE {table.quoted}")
                with cur.copy(table.copy_sql(unit.freeze)) as copy:
                    copy.write(_pgbinary.HEADER)
                    while (item := self.queue.get()) not in (END, ABORT):
                        copy.write(item[0])
                        rows += item[1]
                        self.send("rows", rows=item[1])
                    ended = True
                    if item == ABORT:
                        raise Aborted
                    copy.write(_pgbinary.TRAILER)
        except Aborted:
            return  # the main thread reports the failure
        except psycopg.Error as exc:
            while not ended and self.queue.get() not in (END, ABORT):
                pass  # the rest of this unit's chunks
            self.send("failed", **units.failure(table.name, exc))
            return
        self.send("done", table=table.name, rows=rows, seconds=time.monotonic() - started)
