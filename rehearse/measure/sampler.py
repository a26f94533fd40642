"""Periodic snapshots of locks, backends, progress and server load on their own connection and thread.

Adaptive (given `idle_interval`): a tick every `interval` (10 ms) while the migration runs (its owner says so,
`migration_running()`), while the watched backend is in a statement or transaction, or while anyone waits on
a lock; every `idle_interval` (100 ms) otherwise. A tick reads pg_locks only while that backend is busy or
anyone waits, else pg_stat_activity alone (sampler_queries says why); the progress views then, with the load
counters, every `load_every` intervals. Without `idle_interval`, every tick reads everything at the fixed
rate, as the sampler always did.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

import pandas as pd

from rehearse.measure import sampler_queries as q
from rehearse.measure.sampler_columns import Columns, activity_frame, load_frame
from rehearse.measure.sampler_cpu import CpuMeter
from rehearse.measure.sampler_names import RelationNames, named_locks
from rehearse.measure.sampler_raw import RawQuery

APPLICATION_NAME = "rehearsal-sampler"
_DRAIN_AT = 20_000  # snapshots kept raw before they are parsed mid-run (~3 min at 10 ms, some 50 MB)


@dataclass
class SamplerFrames:
    """What a sampler saw. Every `t` is time.time() at the middle of its query; `rtt` its round-trip.

    `activity.blocked_by` is a list of pids per row (pg_blocking_pids; [] when not waiting on a lock);
    parquet stores it as list<int64> and gives it back as an array per row.
    `load` counters come from pg_stat_database, which a backend updates only after its transaction
    ends, when it next goes idle, and at most once a second (15+; before 15 through the stats
    collector, every 0.5 s): they lag the work by up to a second or so, and a long statement shows up
    all at once when it ends. They include the sampler's own statements, about 1/interval commits per
    second (`sampler_queries` counts them). `stats`: ticks, fast_ticks (at `interval`; the rest came at
    `idle_interval`), missed (ticks whose work outlasted their period), error (None, or what ended the
    thread), watch_pid, sampler_pid, interval, idle_interval (None: fixed rate), load_every, parse_seconds
    (CPU spent parsing what the ticks kept raw, mostly at stop(), after the application: sampler_raw).
    Adaptive, `locks` holds other backends' granted locks only at ticks where someone waited.
    """

    locks: pd.DataFrame
    activity: pd.DataFrame
    load: pd.DataFrame
    progress: pd.DataFrame
    stats: dict = field(default_factory=dict)


class FastWindow:
    """`with sampler.migration_running():` ticks at the fast rate inside, whatever the server shows, so the
    migration's first lock is seen as soon as a fixed-rate sampler would see it."""

    _hot: threading.Event

    @contextlib.contextmanager
    def migration_running(self):
        self._hot.set()
        try:
            yield
        finally:
            self._hot.clear()


class Sampler(FastWindow):
    """Snapshots `dbname` every `interval` seconds (adaptive: see the module), load counters every
    `load_every` intervals, until stopped. `watch_application`: the migration's application_name; `hot`: an
    Event shared with another process (SamplerProcess), else one of its own."""

    def __init__(
        self,
        server,
        dbname: str,
        interval: float = 0.01,
        load_every: int = 10,
        watch_pid: int | None = None,
        idle_interval: float | None = None,
        watch_application: str | None = None,
        hot=None,
    ):
        self.server, self.dbname, self.interval, self.watch_pid = server, dbname, interval, watch_pid
        self.idle_interval = idle_interval if idle_interval and idle_interval > interval else None
        self._params = dict(full=self.idle_interval is None, watch=watch_application)
        self._load_period = interval * max(1, load_every)
        self._hot = hot if hot is not None else threading.Event()
        self._locks, self._activity = Columns(q.LOCK_COLUMNS), Columns(q.ACTIVITY_COLUMNS)
        self._progress = Columns(q.PROGRESS_COLUMNS)
        self._load = Columns(
            {**q.LOAD_COLUMNS, "cpu_seconds": "float64", "cpu_t": "float64", "sampler_queries": "int64"}
        )
        self._snapshots: RawQuery | None = None
        self._load_samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats: dict = dict(ticks=0, fast_ticks=0, missed=0, error=None, watch_pid=watch_pid, interval=interval)
        self.stats |= dict(idle_interval=self.idle_interval, load_every=max(1, load_every))
        self.frames: SamplerFrames | None = None

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Connect (errors raise here), then sample on a daemon thread."""
        self._conn = self.server.connect(self.dbname, autocommit=True, application_name=APPLICATION_NAME)
        # A hung snapshot must not hang stop(); catalogue locks are only ever AccessShare, so a long
        # wait means trouble. JIT would cost more than these small queries.
        self._conn.execute("SET statement_timeout = '5s'; SET lock_timeout = '2s'; SET jit = off")
        self.stats["sampler_pid"] = self._conn.info.backend_pid
        self._cpu = CpuMeter(self.server.postmaster_pid())
        self._wal_origin = self._conn.execute(q.WAL_LSN_SQL).fetchone()[0]
        self._params["database"] = self._conn.execute(q.DATABASE_OID_SQL).fetchone()[0]
        self._names = RelationNames(self._conn)
        full = self._params["full"]
        snapshot_sql = q.snapshot_sql(self.server.version_num, progress=full)
        self._snapshots = RawQuery(self._conn, "rehearsal_snapshot", snapshot_sql, self._params)
        self._parts = [(q.ACTIVITY_COLUMNS, self._activity), (q.LOCK_QUERY_COLUMNS, self._locks)]
        self._relid_at = len(q.ACTIVITY_COLUMNS) + q.LOCK_QUERY_COLUMNS.index("relid")
        self._parts += [(q.PROGRESS_COLUMNS, self._progress)] if full else []
        load_sql = q.load_sql(self.server.version_num)
        self._loads = RawQuery(self._conn, "rehearsal_load", load_sql, (self._wal_origin,))
        self._progresses = RawQuery(self._conn, "rehearsal_progress", q.progress_sql())
        self._thread = threading.Thread(target=self._run, name=APPLICATION_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> SamplerFrames:
        """Stop the thread, wait for it, and return everything collected (also after an error)."""
        if self.frames is not None:
            return self.frames
        self._stop.set()
        self._hot.set()  # wakes a slow wait; the sampler is done with it
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():  # stuck in a query despite statement_timeout
                self._conn.cancel_safe()
                self._thread.join(timeout=5)
                self.stats["error"] = self.stats["error"] or "sampler thread did not stop in time"
        self._parse()
        self.frames = SamplerFrames(
            locks=self._locks.frame(),
            activity=activity_frame(self._activity),
            load=load_frame(self._load),
            progress=self._progress.frame(),
            stats=dict(self.stats),
        )
        return self.frames

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # the database dropped, the server gone…: keep what we have
            self.stats["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        finally:
            self._conn.close()

    def _loop(self) -> None:
        due = next_load = time.monotonic()
        while not self._stop.is_set():
            began = time.monotonic()
            relevant = self._snapshot()
            fast = relevant or self._hot.is_set() or self.idle_interval is None
            if began >= next_load:
                self._load_sample()
                if relevant and self.idle_interval is not None:
                    self._progress_sample()
                # Half an interval early: jitter must not push the load sample to the tick after.
                next_load = began + self._load_period - self.interval / 2
            period = self.interval if fast else self.idle_interval
            self.stats["fast_ticks"] += fast
            due += period
            if time.monotonic() - began > period:  # fell behind: count it, restart the schedule
                self.stats["missed"] += 1
                due = time.monotonic()
            if len(self._snapshots.rows) >= _DRAIN_AT:
                self._parse()
            if self._pause(due, fast):
                due = time.monotonic()

    def _pause(self, due: float, fast: bool) -> bool:
        """Wait until `due` or stop; a slow wait ends early (True) when the migration starts running.
        Asleep on the event itself, not polling it: every wake-up can preempt a busy backend."""
        left = max(0.0, due - time.monotonic())
        if fast:  # a plain sleep costs less than an Event's wait; stop() waits at most one interval more
            time.sleep(left)
            return False
        return self._hot.wait(left) and not self._stop.is_set()

    def _counted(self, values):
        self.stats["queries"] = self.stats.get("queries", 0) + 1
        return values

    def _snapshot(self) -> bool:
        """One tick's row kept raw, with the relation names in force; whether anything relevant was going on
        (see sampler_queries)."""
        *row, watched_xact, relevant = self._counted(self._snapshots.run())
        # With nobody watched, nothing says when the catalogue may have changed: names last one load period.
        epoch = watched_xact if self._params["watch"] is not None else self._load_samples
        loader = self._snapshots.loader(self._relid_at)
        self._snapshots.tag_last(self._names.update(epoch, row[self._relid_at], loader))
        self.stats["ticks"] += 1
        return relevant == b"\x01"  # a binary boolean

    def _parse(self) -> None:
        """Everything kept raw, into the column stores."""
        if self._snapshots is None:  # start() failed before
            return
        began = time.thread_time()
        for t, rtt, row, names in self._snapshots.parsed():
            arrays = iter(row)
            for columns, store in self._parts:
                part = {name: next(arrays) for name in columns}
                store.add_arrays(t, rtt, named_locks(part, names) if store is self._locks else part)
        for t, rtt, row, _ in self._progresses.parsed():
            self._progress.add_arrays(t, rtt, dict(zip(q.PROGRESS_COLUMNS, row)))
        for t, rtt, row, cpu in self._loads.parsed():
            self._load.add_row({"t": t, "rtt": rtt, **dict(zip(q.LOAD_COLUMNS, row)), **cpu})
        self.stats["parse_seconds"] = self.stats.get("parse_seconds", 0.0) + time.thread_time() - began

    def _progress_sample(self) -> None:
        self._counted(self._progresses.run())

    def _load_sample(self) -> None:
        if self._counted(self._loads.run()) is None:
            raise RuntimeError(f"database {self.dbname!r} is gone from pg_stat_database")
        before = time.time()
        cpu = self._cpu.read()
        cpu_t = (before + time.time()) / 2  # psutil walks /proc: its own moment, kept for cpu_percent
        self._loads.tag_last(
            dict(cpu_seconds=cpu, cpu_t=cpu_t, sampler_queries=self.stats["queries"] + self._names.lookups)
        )
        self._load_samples += 1
