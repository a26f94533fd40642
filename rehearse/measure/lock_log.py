"""The migration's own lock waits, exact, from the server's log (where this tool started the server).

A wait shorter than a sampler tick is invisible to the sampler, which then counts it as held. The server
knows better: with `log_lock_waits = on`, a backend whose wait outlived `deadlock_timeout` logs, when it
gets the lock, "process N acquired <mode> on <object> after X ms" (the same words in PostgreSQL 13 to 18),
X timed by the server from the start of the wait. Both settings are superuser-only, so the admin sets them
for the migration's role in the scratch database alone (`ALTER ROLE … IN DATABASE … SET`), just while the
migration's session opens, which is the only session that reads them: the application's backends keep the
server's `deadlock_timeout` and run no extra deadlock check. With `deadlock_timeout = 1ms` every wait of 1 ms
or more is logged; a shorter one is counted as held, as before.

The cost is on deadlocks: PostgreSQL checks for one once per wait, `deadlock_timeout` after it began, and the
backend that finds the cycle is the one aborted. With 1 ms the migration checks first, so a deadlock between
it and the application that closes within the server's `deadlock_timeout` (1 s by default) aborts the
migration where it closed the cycle and the application's transaction where that closed it; at 1 s
everywhere the first to wait would be aborted. The executor reads the new lines after each statement; where
there is no log to read (a --dsn server) the sampler's estimate stands (`lock_wait_source` in the summary).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from dbserver.server_log import log_file

SETTINGS = {"log_lock_waits": "on", "deadlock_timeout": "1ms"}
_ACQUIRED = re.compile(rb"process (\d+) acquired (\w+) on (.+?) after (\d+\.\d+) ms")
_MARK = "rehearsal: lock waits of backend "  # logged by the migration's session to find its log
_ENGLISH = re.compile(r"(C|POSIX|en)([._].*)?", re.IGNORECASE)  # the log's words are matched in English


@dataclass(frozen=True)
class Wait:
    """One lock wait the server logged: the mode wanted, on what ("relation 16554 of database 5",
    "transaction 812", …), and its length in ms."""

    mode: str
    target: str
    ms: float

    @property
    def on_relation(self) -> bool:
        return self.target.startswith("relation ")


@contextlib.contextmanager
def armed(server, dbname: str, login):
    """Around the migration's connect: SETTINGS for its role in `dbname`, reset once its session has them.
    Yields the server's log file, or None when there is none to read (the sampler's estimate then stands)."""
    path, role = log_file(server), psycopg.conninfo.conninfo_to_dict(login.dsn).get("user")
    if path is None or not role:
        yield None
        return
    target = sql.SQL("ALTER ROLE {} IN DATABASE {} ").format(sql.Identifier(role), sql.Identifier(dbname))
    try:
        with server.connect() as conn:
            for name, value in SETTINGS.items():
                conn.execute(target + sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
    except psycopg.Error:  # an admin that is not a superuser may not set them
        yield None
        return
    try:
        yield path
    finally:
        with contextlib.suppress(psycopg.Error), server.connect() as conn:
            for name in SETTINGS:
                conn.execute(target + sql.SQL("RESET {}").format(sql.Identifier(name)))


class LockWaitLog:
    """The waits the server logged for one backend, read from where the last read stopped."""

    def __init__(self, path: Path, pid: int):
        self.path, self.pid = path, pid
        self.offset = path.stat().st_size

    @classmethod
    def attach(cls, path: Path | None, conn) -> LockWaitLog | None:
        """The log of `conn`'s backend, when its session has SETTINGS and English messages and a line it
        logs is found in `path` (a server started otherwise may write elsewhere); else None."""
        if path is None:
            return None
        names = [*SETTINGS, "lc_messages"]
        values = conn.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names).fetchone()
        if dict(zip(SETTINGS, values)) != SETTINGS or not _ENGLISH.fullmatch(values[-1] or "C"):
            return None
        log = cls(path, conn.info.backend_pid)
        conn.execute(f"DO $$ BEGIN RAISE LOG '{_MARK}%', pg_backend_pid(); END $$")
        return log if f"{_MARK}{log.pid}\n".encode() in log._new_lines() else None

    def read(self) -> list[Wait]:
        """The waits logged since the last read."""
        pid = str(self.pid).encode()
        return [
            Wait(mode.decode(), target.decode(errors="replace"), float(ms))
            for who, mode, target, ms in _ACQUIRED.findall(self._new_lines())
            if who == pid
        ]

    def _new_lines(self) -> bytes:
        """The lines written since the last read (a line still being written is left for the next)."""
        with self.path.open("rb") as f:
            if f.seek(0, 2) < self.offset:  # a new log file (the server restarted): read it from its start
                self.offset = 0
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        return data[:end]


def record(log: LockWaitLog | None, rec) -> None:
    """After a statement: its logged waits onto its record, when it succeeded (a wait that ended in an error,
    a lock timeout, has no "acquired" line) on the migration's backend (not the untrusted-extension path's)."""
    if log is None:
        return
    waits = log.read()
    if rec.status == "ok" and not (rec.ran_as or "").startswith("superuser "):
        rec.lock_wait_logged_ms = sum(w.ms for w in waits)
        rec.relation_wait_logged_ms = sum(w.ms for w in waits if w.on_relation)
