"""Periodic snapshots of locks, backends, progress and server load on their own connection and thread."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import pandas as pd

from rehearse.measure import sampler_queries as q

APPLICATION_NAME = "rehearsal-sampler"


@dataclass
class SamplerFrames:
    """What a sampler saw. Every `t` is time.time() at the middle of its query; `rtt` its round-trip.

    `activity.blocked_by` is a list of pids per row (pg_blocking_pids; [] when not waiting on a lock);
    parquet stores it as list<int64> and gives it back as an array per row.
    `load` counters come from pg_stat_database, which a backend updates only after its transaction
    ends, when it next goes idle, and at most once a second (15+; before 15 through the stats
    collector, every 0.5 s): they lag the work by up to a second or so, and a long statement shows up
    all at once when it ends. They include the sampler's own statements, about 1/interval commits per
    second (`sampler_queries` counts them). `stats`: ticks, missed (ticks whose work outlasted the
    interval), error (None, or what ended the thread), watch_pid, sampler_pid.
    """

    locks: pd.DataFrame
    activity: pd.DataFrame
    load: pd.DataFrame
    progress: pd.DataFrame
    stats: dict = field(default_factory=dict)


class _Columns:
    """Rows kept column by column; repeated strings (modes, names, queries) stored once."""

    def __init__(self, dtypes: dict[str, str]):
        self.dtypes = {"t": "float64", "rtt": "float64", **dtypes}
        self.data: dict[str, list] = {name: [] for name in self.dtypes}
        self._strings: dict[str, str] = {}

    def add_arrays(self, t: float, rtt: float, arrays: dict[str, list | None]) -> None:
        n = len(arrays["pid"] or ())
        if not n:
            return
        self.data["t"].extend([t] * n)
        self.data["rtt"].extend([rtt] * n)
        for name, values in arrays.items():
            if values is None or not isinstance(next(filter(None, values), None), str):
                self.data[name].extend(values or [None] * n)
            else:
                self.data[name].extend([self._strings.setdefault(v, v) if v else v for v in values])

    def add_row(self, row: dict) -> None:
        for name, value in row.items():
            self.data[name].append(value)

    def frame(self) -> pd.DataFrame:
        # Cut to the shortest column: only differs if a stuck thread was abandoned mid-append.
        n = min(len(v) for v in self.data.values())
        return pd.DataFrame(
            {name: pd.Series(values[:n], dtype=self.dtypes[name]) for name, values in self.data.items()}
        )


class _CpuMeter:
    """User+system CPU seconds of the postmaster and its children since the first reading."""

    def __init__(self, postmaster_pid: int | None):
        import psutil

        self._process = psutil.Process(postmaster_pid) if postmaster_pid else None
        self._origin: float | None = None
        self._last = 0.0

    def read(self) -> float:
        if self._process is None:
            return math.nan
        total = self._total()
        if self._origin is None:
            self._origin = total
        # A backend that has exited but not yet been reaped counts in neither its own times nor the
        # postmaster's children_*: the sum can dip for a moment, so it is held at its last value.
        self._last = max(self._last, total - self._origin)
        return self._last

    def _total(self) -> float:
        import psutil

        own = self._process.cpu_times()
        # children_user/system: CPU of backends the postmaster has already reaped (waitpid).
        total = own.user + own.system + own.children_user + own.children_system
        for child in self._process.children():
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass  # ended between the listing and the reading
        return total


class Sampler:
    """Snapshots `dbname` every `interval` seconds (load every `load_every`-th tick) until stopped."""

    def __init__(self, server, dbname: str, interval: float = 0.01, load_every: int = 10, watch_pid: int | None = None):
        self.server, self.dbname, self.interval = server, dbname, interval
        self.load_every, self.watch_pid = max(1, load_every), watch_pid
        self._locks = _Columns(q.LOCK_COLUMNS)
        self._activity = _Columns(q.ACTIVITY_COLUMNS)
        self._progress = _Columns(q.PROGRESS_COLUMNS)
        self._load = _Columns(
            {**q.LOAD_COLUMNS, "cpu_seconds": "float64", "cpu_t": "float64", "sampler_queries": "int64"}
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats: dict = {
            "ticks": 0,
            "missed": 0,
            "error": None,
            "watch_pid": watch_pid,
            "interval": interval,
            "load_every": self.load_every,
        }
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
        self._cpu = _CpuMeter(self.server.postmaster_pid())
        self._wal_origin = self._conn.execute(q.WAL_LSN_SQL).fetchone()[0]
        self._snapshot_sql = q.snapshot_sql(self.server.version_num)
        self._load_sql = q.load_sql(self.server.version_num)
        # Prepare both statements now, so the first tick costs what every other one does.
        self._conn.execute(self._snapshot_sql, prepare=True, binary=True)
        self._conn.execute(self._load_sql, (self._wal_origin,), prepare=True, binary=True)
        self._thread = threading.Thread(target=self._run, name=APPLICATION_NAME, daemon=True)
        self._thread.start()

    def stop(self) -> SamplerFrames:
        """Stop the thread, wait for it, and return everything collected (also after an error)."""
        if self.frames is not None:
            return self.frames
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():  # stuck in a query despite statement_timeout
                self._conn.cancel_safe()
                self._thread.join(timeout=5)
                self.stats["error"] = self.stats["error"] or "sampler thread did not stop in time"
        self.frames = SamplerFrames(
            locks=self._locks.frame(),
            activity=_activity_frame(self._activity),
            load=_load_frame(self._load),
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
        deadline = time.monotonic()
        while not self._stop.is_set():
            began = time.monotonic()
            self._snapshot()
            if (self.stats["ticks"] - 1) % self.load_every == 0:
                self._load_sample()
            deadline += self.interval
            if time.monotonic() - began > self.interval:  # fell behind: count it, restart the schedule
                self.stats["missed"] += 1
                deadline = time.monotonic()
            self._stop.wait(max(0.0, deadline - time.monotonic()))

    def _timed(self, sql: str, params=None) -> tuple[tuple, float, float]:
        before = time.time()
        row = self._conn.execute(sql, params, prepare=True, binary=True).fetchone()
        after = time.time()
        self.stats["queries"] = self.stats.get("queries", 0) + 1
        return row, (before + after) / 2, after - before

    def _snapshot(self) -> None:
        row, t, rtt = self._timed(self._snapshot_sql)
        self.stats["ticks"] += 1
        arrays = iter(row)
        for columns, store in (
            (q.ACTIVITY_COLUMNS, self._activity),
            (q.LOCK_COLUMNS, self._locks),
            (q.PROGRESS_COLUMNS, self._progress),
        ):
            store.add_arrays(t, rtt, {name: next(arrays) for name in columns})

    def _load_sample(self) -> None:
        row, t, rtt = self._timed(self._load_sql, (self._wal_origin,))
        if row is None:
            raise RuntimeError(f"database {self.dbname!r} is gone from pg_stat_database")
        before = time.time()
        cpu = self._cpu.read()
        cpu_t = (before + time.time()) / 2  # psutil walks /proc: its own moment, kept for cpu_percent
        self._load.add_row(
            {
                "t": t,
                "rtt": rtt,
                **dict(zip(q.LOAD_COLUMNS, row)),
                "cpu_seconds": cpu,
                "cpu_t": cpu_t,
                "sampler_queries": self.stats["queries"],
            }
        )


def _activity_frame(columns: _Columns) -> pd.DataFrame:
    frame = columns.frame()
    lists = [[int(p) for p in s.split(",")] if isinstance(s, str) and s else [] for s in frame["blocked_by"]]
    frame["blocked_by"] = pd.Series(lists, index=frame.index, dtype="object")
    return frame


def _load_frame(columns: _Columns) -> pd.DataFrame:
    frame = columns.frame()
    # Percent of ONE core between consecutive load samples (two busy cores read 200).
    frame["cpu_percent"] = 100 * frame["cpu_seconds"].diff() / frame["cpu_t"].diff()
    return frame
