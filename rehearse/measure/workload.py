"""The synthetic application: an open-loop schedule of order-service transactions and one record per transaction."""

from __future__ import annotations

import bisect
import itertools
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.string import StrDumperVarchar

from dbserver import BadInput
from rehearse.measure import transactions as tx

DEFAULT_MIX = {
    "place_order": 0.25,
    "read_order": 0.35,
    "list_recent_orders": 0.2,
    "update_status": 0.15,
    "refund": 0.05,
}
APPLICATION_NAME = "rehearsal-app"
RECORD = ["seq", "kind", "intended_start", "actual_start", "end", "client", "pid", "ok", "sqlstate", "error", "version"]
COLUMNS = RECORD[:5] + ["latency_ms", "service_ms"] + RECORD[5:]


@dataclass(frozen=True)
class WorkloadConfig:
    rate: float = 200.0  # target transactions per second (open loop)
    clients: int = 8  # connections
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))  # weights by kind
    statement_timeout_ms: int | None = None  # application-side, SET on each connection
    lock_timeout_ms: int | None = None
    seed: int = 42
    queries: str = "current"  # the query set the app speaks (see _transactions.QUERIES); "current,new" runs
    # both versions side by side (a rolling deploy), transaction seq going to version seq % 2


class Workload:
    """Open loop: transaction i is due at t0 + i/rate whatever the server does (even spacing, not Poisson,
    so a gap in the records is the server's doing); a due transaction waits in one FIFO queue for a free
    client, and its latency counts from when it was due, as a user would feel it."""

    def __init__(self, server, dbname: str, config: WorkloadConfig = WorkloadConfig(), apps: Mapping | None = None):
        """`apps`: version → application (replay.ReplayApp, …); None = the built-in order service."""
        if apps is not None:
            self._init(server, dbname, config, dict(apps))
            return
        self.versions = query_sets(config.queries)
        unknown = set(config.mix) - set.intersection(*(set(tx.QUERIES[v]) for v in self.versions))
        if unknown or config.rate <= 0 or config.clients < 1 or sum(config.mix.values()) <= 0:
            raise BadInput(
                f"bad workload config (unknown kinds {sorted(unknown)}, rate {config.rate}, "
                f"clients {config.clients}); use kinds from {sorted(tx.QUERIES[self.versions[0]])}"
            )
        self._init(server, dbname, config, tx.builtin_apps(self.versions, config.mix))

    def _init(self, server, dbname: str, config: WorkloadConfig, apps: dict) -> None:
        if config.rate <= 0 or config.clients < 1:
            raise BadInput(f"bad workload config (rate {config.rate}, clients {config.clients}); give both above 0")
        self.server, self.dbname, self.config, self.apps = server, dbname, config, apps
        self.versions = tuple(apps)
        self.stats: dict = {}
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._records: list[tuple] = []
        self._pids: set[int] = set()
        self._conns: list[psycopg.Connection | None] = []
        self._threads: list[threading.Thread] = []

    @property
    def backend_pids(self) -> set[int]:
        """Every backend pid the app's connections had (reconnects add new ones)."""
        return set(self._pids)

    def start(self) -> None:
        try:
            for _ in range(self.config.clients):
                self._conns.append(self._connect())
            for app in self.apps.values():
                app.prepare(self._conns[0])
        except BaseException:
            self._close_all()
            raise
        self._t0_mono, self._t0 = time.monotonic(), time.time()
        self._threads = [
            threading.Thread(target=self._serve, args=(i,), daemon=True, name=f"app-{i}")
            for i in range(self.config.clients)
        ]
        self._threads.append(threading.Thread(target=self._dispatch, daemon=True, name="app-dispatch"))
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> pd.DataFrame:
        """Stop issuing, wait up to `timeout` s for in-flight transactions, cancel the rest; the records.

        stats: intended (due by now), started (= records), completed (ok), errors, shortfall (due but
        never started: not errors), cancelled_at_stop, max_queue_delay_ms (actual - intended start)."""
        if not self._threads:
            return pd.DataFrame(columns=COLUMNS)
        self._stopping.set()
        stop_mono = time.monotonic()  # after set(): nothing due later than this is dispatched
        workers, dispatcher = self._threads[:-1], self._threads[-1]
        dispatcher.join()
        for _ in workers:
            self._queue.put(None)  # behind any due transactions, which the workers skip
        cancelled = self._join(workers, timeout)
        self._close_all()
        frame = self._frame()
        due = int((stop_mono - self._t0_mono) * self.config.rate) + 1
        self.stats = {
            "intended": due,
            "started": len(frame),
            "completed": int(frame.ok.sum()),
            "errors": int((~frame.ok).sum()),
            "shortfall": due - len(frame),
            "cancelled_at_stop": cancelled,
            "max_queue_delay_ms": float((frame.actual_start - frame.intended_start).max() * 1e3) if len(frame) else 0.0,
        }
        return frame

    # -- dispatcher: one thread, sleeps to the next due time computed from t0, so errors never accumulate

    def _dispatch(self) -> None:
        rng = np.random.default_rng(self.config.seed)
        picks = {version: _picker(app.mix) for version, app in self.apps.items()}
        interval = 1.0 / self.config.rate
        for seq in itertools.count():
            delay = self._t0_mono + seq * interval - time.monotonic()
            if self._stopping.wait(delay) if delay > 0 else self._stopping.is_set():
                return
            version = self.versions[seq % len(self.versions)]  # by seq: the rng stream stays as with one set
            kinds, cumulative = picks[version]
            kind = kinds[min(bisect.bisect_right(cumulative, rng.random()), len(kinds) - 1)]
            params = self.apps[version].params(kind, rng)
            self._queue.put((seq, kind, self._t0 + seq * interval, params, version))

    # -- clients: one thread and one connection each

    def _connect(self) -> psycopg.Connection:
        conn = self.server.connect(self.dbname, autocommit=True, application_name=APPLICATION_NAME, connect_timeout=5)
        # Strings go out typed as varchar, as JDBC sends them by default: then a column retyped under the
        # app (text -> bigint) fails as it did in production instead of being silently cast from 'unknown'.
        conn.adapters.register_dumper(str, StrDumperVarchar)
        for app in self.apps.values():
            app.register(conn)
        for name, value in (
            ("statement_timeout", self.config.statement_timeout_ms),
            ("lock_timeout", self.config.lock_timeout_ms),
        ):
            if value is not None:
                conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(int(value))))
        self._pids.add(conn.info.backend_pid)
        return conn

    def _serve(self, client: int) -> None:
        while (item := self._queue.get()) is not None:
            if not self._stopping.is_set():  # due but not started before stop(): shortfall, not error
                self._attempt(client, *item)

    def _attempt(self, client: int, seq: int, kind: str, intended: float, params: dict, version: str) -> None:
        actual, pid, failure = time.time(), None, None
        try:
            conn = self._conns[client]
            if conn is None or conn.closed or conn.broken:
                self._conns[client] = None
                if conn is not None:
                    conn.close()
                conn = self._conns[client] = self._connect()
            pid = conn.info.backend_pid
            self.apps[version].execute(conn, kind, params)
            self.apps[version].saw(params)
        except Exception as exc:  # SQL errors and app bugs alike: record, roll back (done), carry on
            failure = exc
        outcome = _outcome(failure, self._conns[client])
        self._records.append((seq, kind, intended, actual, time.time(), client, pid) + outcome + (version,))

    # -- stopping

    def _join(self, workers: list[threading.Thread], timeout: float) -> int:
        """Wait for the workers; cancel the statements of those still busy (stuck behind a lock)."""
        deadline = time.monotonic() + timeout
        for thread in workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [i for i, thread in enumerate(workers) if thread.is_alive()]
        for i in stuck:
            conn = self._conns[i]
            if conn is not None and not conn.closed:
                conn.cancel_safe(timeout=3)
        for i in stuck:
            workers[i].join(5.0)  # daemon threads: one that still hangs (say, in connect) is abandoned
        return len(stuck)

    def _close_all(self) -> None:
        for conn in self._conns:
            if conn is not None:
                conn.close()

    def _frame(self) -> pd.DataFrame:
        return frame_of(self._records)


def frame_of(records: list[tuple]) -> pd.DataFrame:
    """The records as the workload frame; typed even when empty, so that `~frame.ok` filters rows."""
    frame = pd.DataFrame(records, columns=RECORD).astype(
        {"seq": "int64", "intended_start": float, "actual_start": float, "end": float, "ok": bool}
    )
    frame["latency_ms"] = (frame["end"] - frame["intended_start"]) * 1e3
    frame["service_ms"] = (frame["end"] - frame["actual_start"]) * 1e3
    return frame[COLUMNS].sort_values("seq", ignore_index=True)


class NoTraffic:
    """`--rate 0`: no application at all (the default on a user's schema); the migration runs alone."""

    backend_pids: frozenset[int] = frozenset()

    def __init__(self):
        self.stats = {"intended": 0, "started": 0, "completed": 0, "errors": 0, "shortfall": 0}

    def start(self) -> None:
        pass

    def stop(self, timeout: float = 10.0) -> pd.DataFrame:
        return frame_of([])


def _picker(mix: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    """The kinds with a weight above 0 and their cumulative shares, for one uniform draw per transaction."""
    kinds = [k for k, w in mix.items() if w > 0]
    return kinds, np.cumsum([mix[k] for k in kinds]) / sum(mix[k] for k in kinds)


def query_sets(spec: str) -> tuple[str, ...]:
    """'current,new' → ('current', 'new'): the query sets named, each known to _transactions.QUERIES."""
    names = tuple(name.strip() for name in str(spec).split(","))
    unknown = [name for name in names if name not in tx.QUERIES]
    if unknown or len(set(names)) != len(names):
        raise BadInput(
            f"bad query set list {spec!r} (unknown or repeated: {', '.join(unknown) or 'repeated'}); "
            f"give names from {', '.join(tx.QUERIES)}, comma-separated, e.g. current,new"
        )
    return names


def _outcome(failure: Exception | None, conn: psycopg.Connection | None) -> tuple:
    """(ok, sqlstate, first line of the message); libpq gives no SQLSTATE for a lost connection, so a
    failed connect reads as 08001 and a dropped one as 08006, their codes in PostgreSQL's class 08."""
    if failure is None:
        return True, None, None
    state = getattr(failure, "sqlstate", None)
    if state is None and isinstance(failure, psycopg.OperationalError):
        state = "08001" if conn is None else "08006" if conn.broken else None
    message = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
    return False, state, message
