"""Application transactions delayed by the migration's locks, counted as users feel them (open loop).

`blocked_transactions` counts what the sampler saw waiting in the server: at most one transaction per
connection at a time. In an open loop every transaction that *should* have started while a lock was held
waits too — first in the server's lock queue, then in the application's own queue behind the blocked
connections — and its latency, counted from its intended start, shows it. A transaction is *delayed* by a
statement when

* its latency is above normal (over the p99 of the traffic before the migration, and over a floor), and
* its time in flight (intended start → end) overlaps a lock of the statement that conflicts with a lock
  the transaction's own SQL takes on that relation, or it sat in the application's queue while such a lock
  was held or while the backlog it left drained, or the sampler saw it blocked by the statement.

Its delay is its latency minus the median latency before the migration. Each transaction is blamed on
one statement (the first that explains it), so per-statement counts add up to the run's.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from rehearse.analysis import timeline
from rehearse.analysis.derived import once
from rehearse.measure.transactions import QUERIES
from rehearse.sql import locks as lockmodes
from rehearse.sql.expected import expected_locks

# Below this a latency is noise on any machine (a commit's WAL flush alone takes 3–8 ms on a busy disk).
FLOOR_MS = 10.0
COLUMNS = ["tx", "kind", "index", "latency_ms", "delay_ms", "ok"]


@functools.cache
def app_locks(kind: str, statements: tuple[str, ...] | None = None) -> tuple[tuple[str, str], ...]:
    """(relation, mode) pairs the application's transactions of `kind` take, from their SQL: `statements`
    when given (a replayed kind, `$n` already), else the synthetic application's own for that kind."""
    found = statements if statements is not None else tuple(s for q in QUERIES.values() for s in q.get(kind, ()))
    pairs = set()
    for sql in found:
        # psycopg's %(name)s placeholders → PostgreSQL's $1, which the parser reads
        pairs |= {(lock.relation, lock.mode) for lock in expected_locks(re.sub(r"%\(\w+\)s", "$1", sql))}
    return tuple(sorted(pairs))


def kind_locks(result) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per kind of the run's workload, the locks its SQL takes: a replayed kind's from the statement the
    manifest recorded (`--workload`), a built-in kind's from the application's query sets."""
    replayed: dict[str, tuple[str, ...]] = {}
    for app in (result.manifest.replay or {}).values():
        for entry in app.get("kinds", ()):
            replayed[entry["kind"]] = replayed.get(entry["kind"], ()) + (entry["sql"],)
    return {kind: app_locks(kind, replayed.get(kind)) for kind in result.workload["kind"].unique()}


@once
def delayed_transactions(result) -> pd.DataFrame:
    """One row per delayed application transaction: its kind, the statement blamed, latency and delay (ms)."""
    work = result.workload.reset_index(names="tx")
    work = work[work["end"].notna() & work["actual_start"].notna()]
    normal_p50, threshold = _normal(result, work)
    needs = kind_locks(result)
    windows = _windows(result, work, threshold, needs)
    blocked = timeline.blocked_transactions(result)
    seen_blocked = dict(zip(blocked["tx"], blocked["index"]))
    rows = []
    for tx in work[work["latency_ms"] > threshold].itertuples():
        index = _blame(tx, needs[tx.kind], windows, threshold) or seen_blocked.get(tx.tx)
        if index is not None:
            delay = max(tx.latency_ms - normal_p50, 0.0)
            rows.append(
                dict(tx=tx.tx, kind=tx.kind, index=int(index), latency_ms=tx.latency_ms, delay_ms=delay, ok=tx.ok)
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def figures(delayed: pd.DataFrame) -> dict:
    """delayed_app_tx and delayed_app_ms_p50/p99/max of a set of delayed transactions."""
    ms = delayed["delay_ms"].to_numpy(dtype=float)
    return dict(
        delayed_app_tx=len(ms),
        delayed_app_ms_p50=float(np.percentile(ms, 50)) if len(ms) else 0.0,
        delayed_app_ms_p99=float(np.percentile(ms, 99)) if len(ms) else 0.0,
        delayed_app_ms_max=float(ms.max()) if len(ms) else 0.0,
    )


def _normal(result, work: pd.DataFrame) -> tuple[float, float]:
    """(median, threshold) of latency before the migration; the whole run's median when there was no before.

    Before = ended before the migration started: a transaction due just before it but caught by its first
    lock is what is being measured, not the normal (a handful of them made the p99 of a 3 s warm-up the
    length of the lock, and then nothing counted as delayed)."""
    before = work[work["end"] < result.manifest.migration_start]["latency_ms"]
    sample = before if len(before) else work["latency_ms"]
    if not len(sample):
        return 0.0, FLOOR_MS
    p50 = float(np.percentile(sample, 50))
    p99 = float(np.percentile(before, 99)) if len(before) else 2 * p50
    return p50, max(p99, 2 * p50, FLOOR_MS)


def _windows(result, work: pd.DataFrame, threshold: float, needs: dict) -> list[tuple]:
    """(index, relation, mode, start, end, drained) of each lock the application could have waited for.

    `drained`: when the application's queue was back to normal after the lock's release.
    """
    spans = timeline.lock_spans(result)
    spans = spans[~spans["own"] & spans["start"].notna() & spans["end"].notna()]
    wanted = {pair for kind in work["kind"].unique() for pair in needs[kind]}
    order = work.sort_values("intended_start")
    starts = order["intended_start"].to_numpy(dtype=float)
    queued = ((order["actual_start"] - order["intended_start"]) * 1000 > threshold).to_numpy()
    out = []
    for s in spans.itertuples():
        if any(r == s.relation and lockmodes.conflicts(s.mode, m) for r, m in wanted):
            out.append((s.index, s.relation, s.mode, s.start, s.end, _drained(starts, queued, s.end)))
    return sorted(out)


def _drained(starts: np.ndarray, queued: np.ndarray, released: float) -> float:
    """The intended start of the first transaction after `released` that was not held in the queue."""
    after = np.searchsorted(starts, released, side="right")
    free = np.flatnonzero(~queued[after:])
    return float(starts[after + free[0]]) if len(free) else float(starts[-1]) if len(starts) else released


def _blame(tx, needs: tuple, windows: list[tuple], threshold: float):
    """The first statement whose conflicting lock this transaction met, in the server or in the app's queue."""
    queued = (tx.actual_start - tx.intended_start) * 1000 > threshold
    for index, relation, mode, start, end, drained in windows:
        met = (
            tx.intended_start <= end
            and tx.end >= start
            and any(r == relation and lockmodes.conflicts(mode, m) for r, m in needs)
        )
        waited_in_app = queued and tx.intended_start <= drained and tx.actual_start >= start
        if met or waited_in_app:
            return index
    return None
