"""An independent ground truth for a rehearsal's lock figures, read on the server's clock.

* **Grant.** The migration takes its lock in a DO block that reads `clock_timestamp()` right after the
  LOCK returns (and `statement_timestamp()`, when the server received it) and sends both with
  `pg_notify`, which PostgreSQL delivers when the migration commits.
* **Release.** A probe backend watches `pg_locks` until the migration holds the lock, then queues behind
  it (`LOCK … IN <a conflicting mode>` and `clock_timestamp()` in one query string, so no client round
  trip sits between the grant and the read): its acquisition is the moment the lock was released to it.
* **Wait.** `pg_locks.waitstart` (kept raw in the rehearsal's lock frame) marks when the application's
  waits began; the migration's own wait is grant − when its LOCK arrived.

True hold = probe's acquisition − migration's acquisition. Nothing here reads the tool's analysis: only
the server's timestamps and the raw pg_locks rows. Used by bench/fidelity.py and tests/test_fidelity_truth.py.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CHANNEL = "fidelity_truth"
MIGRATION_APP = "rehearsal-migration"  # the executor's application_name: how the probe finds the backend
# The weakest mode an application asks for that conflicts with the migration's, so the probe queues.
PROBE_MODE = {"AccessExclusiveLock": "ACCESS SHARE", "ExclusiveLock": "ACCESS SHARE", "ShareLock": "ROW EXCLUSIVE"}
_SQL_MODE = {"AccessExclusiveLock": "ACCESS EXCLUSIVE", "ExclusiveLock": "EXCLUSIVE", "ShareLock": "SHARE"}


def grant_block(table: str, mode: str) -> str:
    """The migration's first statement: take `mode` on `table` and report the grant on the server's clock."""
    stamps = "extract(epoch FROM clock_timestamp()) || ' ' || extract(epoch FROM statement_timestamp()) || ' ' || asked"
    return (
        "DO $$ DECLARE asked float8 := extract(epoch FROM clock_timestamp()); "
        f"BEGIN LOCK TABLE {table} IN {_SQL_MODE[mode]} MODE; PERFORM pg_notify('{CHANNEL}', {stamps}); END $$;"
    )


@dataclass
class Truth:
    """Server-clock epochs: the migration's statement received, its LOCK asked for and granted; the lock
    released to the probe."""

    received: float
    granted: float
    released: float
    probe_queued: bool  # False when the probe came too late to queue: `released` is then only an upper bound
    requested: float | None = None  # the LOCK's start inside the statement (after parsing, planning it)

    @property
    def hold_ms(self) -> float:
        return (self.released - self.granted) * 1000

    @property
    def wait_ms(self) -> float:
        """From the statement's arrival to the grant: the lock wait and the work before the LOCK."""
        return (self.granted - self.received) * 1000

    @property
    def lock_wait_ms(self) -> float:
        """The LOCK's own wait: from its start to the grant."""
        return (self.granted - self.requested) * 1000


class Probe:
    """A thread that finds the next rehearsal's migration backend, queues behind its lock and collects
    the truths. Start it before `rehearse.run`, read `result()` after."""

    def __init__(self, server, table: str = "orders", mode: str = "AccessExclusiveLock", timeout: float = 300.0):
        self.server, self.table, self.mode, self.timeout = server, table, mode, timeout
        self.since = time.time()
        self._grant: tuple[float, ...] | None = None
        self._release: tuple[float, bool] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="fidelity-probe", daemon=True)

    def start(self) -> Probe:
        self._thread.start()
        return self

    def result(self) -> Truth:
        """The truths, once the migration has committed (raises what went wrong in the probe)."""
        self._thread.join(self.timeout)
        if self._error is not None:
            raise RuntimeError(f"fidelity probe failed: {self._error}") from self._error
        if self._grant is None or self._release is None:
            raise RuntimeError("fidelity probe: the migration's lock or its notification was never seen")
        (granted, received, requested), (released, queued) = self._grant, self._release
        return Truth(received, granted, released, queued, requested)

    def _main(self) -> None:
        try:
            deadline = time.time() + self.timeout
            pid, dbname = find_migration(self.server, deadline, self.since)
            with self.server.connect(dbname, autocommit=True, application_name="fidelity-probe") as conn:
                conn.add_notify_handler(self._on_notify)
                conn.execute(f"LISTEN {CHANNEL}")
                self._wait_for_grant(conn, pid, deadline)
                self._release = self._queue(conn)
                while self._grant is None and time.time() < deadline:  # delivered at the migration's commit
                    conn.execute("SELECT 1")  # lets the handler see what arrived
                    time.sleep(0.05)
        except BaseException as exc:  # noqa: BLE001 — handed to the caller by result()
            self._error = exc

    def _on_notify(self, notify) -> None:
        self._grant = tuple(float(x) for x in notify.payload.split())

    def _wait_for_grant(self, conn, pid: int, deadline: float) -> None:
        query = (
            "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'relation' AND granted "
            "AND relation = %s::regclass AND mode = %s"
        )
        while time.time() < deadline:
            if conn.execute(query, (pid, self.table, self.mode)).fetchone():
                return
            time.sleep(0.002)  # the shortest hold measured is 50 ms: queued within a few ms of the grant
        raise TimeoutError("the migration never held its lock")

    def _queue(self, conn) -> tuple[float, bool]:
        """Queue behind the migration; the server's clock when the lock came to us, and whether we waited."""
        cur = conn.cursor()
        cur.execute(
            f"BEGIN; LOCK TABLE {self.table} IN {PROBE_MODE[self.mode]} MODE; "
            "SELECT extract(epoch FROM clock_timestamp())::float8, extract(epoch FROM statement_timestamp())::float8; "
            "COMMIT"
        )
        while cur.description is None or len(cur.description) != 2:
            cur.nextset()
        acquired, sent = cur.fetchone()
        return acquired, acquired - sent > 0.001  # a probe that waited under 1 ms was not queued


def find_migration(server, deadline: float, since: float) -> tuple[int, str]:
    """The migration's backend: the executor connects before traffic starts, so this is unhurried. Only one
    that connected after `since` (epoch) to a run's scratch copy: not the last run's, going."""
    with server.connect("postgres", autocommit=True, application_name="fidelity-probe") as conn:
        while time.time() < deadline:
            row = conn.execute(
                "SELECT pid, datname FROM pg_stat_activity WHERE application_name = %s "
                "AND backend_start >= to_timestamp(%s) AND datname LIKE 'rehearsal\\_run\\_%%'",
                (MIGRATION_APP, since),
            ).fetchone()
            if row:
                return row
            time.sleep(0.02)
    raise TimeoutError("no migration backend appeared")


class Blocker:
    """A lock wait of known, short length for the migration: holds ACCESS SHARE on the table from before the
    migration starts until `hold_s` after its LOCK is seen waiting (polled every 0.5 ms)."""

    def __init__(self, server, table: str = "orders", hold_s: float = 0.003, timeout: float = 300.0):
        self.server, self.table, self.hold_s, self.timeout = server, table, hold_s, timeout
        self.since = time.time()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="fidelity-blocker", daemon=True)

    def start(self) -> Blocker:
        self._thread.start()
        return self

    def join(self) -> None:
        self._thread.join(self.timeout)
        if self.error is not None:
            raise RuntimeError(f"fidelity blocker failed: {self.error}") from self.error

    def _main(self) -> None:
        try:
            deadline = time.time() + self.timeout
            pid, dbname = find_migration(self.server, deadline, self.since)
            with self.server.connect(dbname, autocommit=True, application_name="fidelity-blocker") as conn:
                conn.execute("BEGIN")
                conn.execute(f"LOCK TABLE {self.table} IN ACCESS SHARE MODE")
                waiting = "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted AND relation = %s::regclass"
                while not conn.execute(waiting, (pid, self.table)).fetchone() and time.time() < deadline:
                    time.sleep(0.0005)
                time.sleep(self.hold_s)
                conn.execute("COMMIT")
        except BaseException as exc:  # noqa: BLE001 — handed to the caller by join()
            self.error = exc


def rehearse_with_truth(
    sql: str, mode: str = "AccessExclusiveLock", table: str = "orders", blocker_s: float | None = None, **options
) -> dict:
    """Rehearse `grant_block(table, mode)` + `sql` with a probe beside it: the tool's figures and the truths.
    `blocker_s`: make the migration's LOCK wait that long (plus the blocker's reaction) for a Blocker first."""
    import dbserver
    from rehearse import run
    from rehearse.analysis.summary import summary
    from rehearse.analysis.timeline import lock_spans

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "truth.sql"
        path.write_text(grant_block(table, mode) + "\n" + sql + "\n")
        server = dbserver.open_server()
        blocker = Blocker(server, table, blocker_s).start() if blocker_s is not None else None
        probe = Probe(server, table, mode).start()
        result = run(path, **options)
        truth = probe.result()
        if blocker:
            blocker.join()
    first = summary(result)["statements"][0]  # the grant block: the statement that took the lock
    span = lock_spans(result)
    span = span[(span["index"] == first["index"]) & (span["relation"] == f"public.{table}") & (span["mode"] == mode)]
    return dict(
        truth=truth, tool=first, span=span.iloc[0] if len(span) else None, app_wait_ms=_app_wait(result, truth, table)
    )


def _app_wait(result, truth: Truth, table: str) -> float:
    """The longest application wait on the server's clock: the lock's release − the earliest
    `pg_locks.waitstart` of an application backend queued on the table since the migration's LOCK arrived."""
    locks = result.locks
    waits = locks[
        ~locks["granted"] & locks["pid"].isin(result.manifest.app_pids) & (locks["relation"] == f"public.{table}")
    ]
    began = waits["waitstart"][(waits["waitstart"] >= truth.received) & (waits["waitstart"] <= truth.released)]
    return (truth.released - began.min()) * 1000 if len(began) else 0.0
