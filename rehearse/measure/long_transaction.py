"""A long transaction holding a weak lock (an analytics query, a session idle in transaction).

It is harmless alone, but an ALTER that needs ACCESS EXCLUSIVE must wait for it, and every application
query that arrives after the ALTER queues behind the ALTER: the lock-queue pile-up.
"""

from __future__ import annotations

import threading
import time

import psycopg

APPLICATION_NAME = "rehearsal-long-transaction"


class LongTransaction:
    """Holds AccessShareLock on `table` for `seconds` from start(), on its own connection and thread."""

    def __init__(self, server, dbname: str, seconds: float, table: str = "orders"):
        self.server, self.dbname, self.seconds, self.table = server, dbname, seconds, table
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, name="long-transaction", daemon=True)
        self._started = threading.Event()
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.pid: int | None = None

    def start(self) -> None:
        self._thread.start()
        self._started.wait(30)

    def stop(self) -> None:
        """End it early if it still runs (the rehearsal is over)."""
        self._release.set()
        self._thread.join(30)

    def _hold(self) -> None:
        with psycopg.connect(self.server.url(self.dbname), application_name=APPLICATION_NAME) as conn:
            self.pid = conn.info.backend_pid
            conn.execute(psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(self.table)))
            self.started_at = time.time()  # the read lock is held from here until commit
            self._started.set()
            self._release.wait(self.seconds)
            conn.commit()
            self.ended_at = time.time()

    def to_dict(self) -> dict:
        return dict(table=self.table, seconds=self.seconds, pid=self.pid, start=self.started_at, end=self.ended_at)
