"""Timeline → findings: lock spans, lock waits, blocked application time, latency before/during/after.

Works on a RehearsalResult only (never a database), so a saved run can be re-analysed later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.analysis import spans
from rehearse.analysis.derived import once
from rehearse.sql import locks as lockmodes

PHASES = ("before", "during", "after")


@once
def lock_spans(result) -> pd.DataFrame:
    """Each lock the migration held: statement index, relation, mode, start, end, hold_ms, how it was seen."""
    return spans.lock_spans(result, _grant_waits(result))


def _grant_waits(result) -> pd.Series:
    """Per statement: ms from its start to its table locks' grant. The server's logged waits for relation
    locks where it logged them (a wait for a row lock comes after the table lock), else the sampler's."""
    logged = _logged(result, "relation_wait_logged_ms")
    return logged.combine_first(lock_waits(result, final_attempt=True))


def _logged(result, column: str) -> pd.Series:
    """Per statement index: the server's logged waits (rehearse.measure.lock_log), where they were read."""
    statements = result.statements
    if column not in statements:  # runs saved before the log was read
        return pd.Series(dtype=float)
    return statements.set_index("index")[column].dropna().astype(float)


def lock_wait_source(result) -> pd.Series:
    """Per statement index: where its `lock_wait_ms` came from: 'server log' or 'sampler'."""
    logged = _logged(result, "lock_wait_logged_ms")
    return pd.Series({i: "server log" if i in logged.index else "sampler" for i in result.statements["index"]})


@once
def lock_waits(result, final_attempt: bool = False) -> pd.Series:
    """Per statement index: ms the migration waited for its own locks.

    Exact where the server logged them (the final attempt's); else from the sampler's non-granted rows:
    over all attempts of a retried statement by default, `final_attempt` for the wait before its locks
    were finally granted. The grant lies between the last tick that saw the wait and the first that saw
    the backend past it, or the statement's end (server's clock) when it ended before the next tick.
    """
    sampled = _sampled_waits(result, final_attempt)
    logged = _logged(result, "lock_wait_logged_ms")
    if not final_attempt and "attempts" in result.statements:  # the log holds the last attempt's waits only
        retried = set(result.statements.loc[result.statements["attempts"] > 1, "index"])
        logged = logged[~logged.index.isin(retried)]
    return logged.combine_first(sampled)


def _sampled_waits(result, final_attempt: bool) -> pd.Series:
    """The sampler's estimate of lock_waits."""
    pid, interval = result.migration_pid, result.manifest.config.sample_interval
    waiting = result.locks[(result.locks["pid"] == pid) & ~result.locks["granted"]]
    past = _ticks_not_waiting(result)
    out = {}
    for stmt in result.statements.itertuples():
        start = getattr(stmt, "final_start", None) if final_attempt else stmt.start
        start = stmt.start if start is None or np.isnan(start) else start
        if start is None or np.isnan(start):
            continue
        inside = waiting[(waiting["t"] >= start) & (waiting["t"] <= stmt.end)]
        if inside.empty:
            out[stmt.index] = 0.0
        elif final_attempt or getattr(stmt, "attempts", 1) == 1:
            out[stmt.index] = (_granted(inside["t"].max(), stmt.end, past, interval) - start) * 1000
        else:  # several attempts: count waiting samples, the pauses between attempts are not waits
            out[stmt.index] = len(inside) * interval * 1000
    return pd.Series(out, dtype=float)


def _ticks_not_waiting(result) -> np.ndarray:
    """Sorted times of the ticks that saw the migration's backend not waiting for a lock."""
    activity = result.activity
    mine = activity[(activity["pid"] == result.migration_pid) & (activity["wait_event_type"] != "Lock")]
    return np.sort(mine["t"].to_numpy(dtype=float))


def _granted(last_wait: float, end: float, past: np.ndarray, interval: float) -> float:
    """The grant's estimate: midway to the first tick past the wait, or the statement's end if it came first
    (less its work after the grant, under a tick; a tick missed under load caps it one interval on)."""
    i = np.searchsorted(past, last_wait, side="right")
    if i == len(past) or past[i] >= end:
        return min(end, last_wait + interval)
    return (last_wait + past[i]) / 2


@once
def blocking(result) -> pd.DataFrame:
    """Application backends waiting, directly or through the lock queue, on the migration's backend."""
    pid, app = result.migration_pid, set(result.manifest.app_pids)
    activity = result.activity
    rows = []
    for t, snap in activity.groupby("t", sort=True):
        blockers = {p: set(_pids(b)) for p, b in zip(snap["pid"], snap["blocked_by"])}
        for waiter, direct in blockers.items():
            if waiter in app and direct and pid in _closure(waiter, blockers):
                rows.append(dict(t=t, pid=waiter, via="direct" if pid in direct else "queue"))
    frame = pd.DataFrame(rows, columns=["t", "pid", "via"])
    frame["index"] = _attribute(result, frame)
    return frame


def _pids(value) -> list[int]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [int(p) for p in value.split(",") if p]
    return [int(p) for p in value]


def _closure(waiter: int, blockers: dict[int, set[int]]) -> set[int]:
    """Every backend `waiter` waits on, following the chain (a queue behind a queued ALTER)."""
    seen, todo = set(), list(blockers.get(waiter, ()))
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(blockers.get(p, ()))
    return seen


def _attribute(result, frame: pd.DataFrame) -> pd.Series:
    """Blame each blocked sample on the statement whose held lock conflicts with the wait, else the one running."""
    if frame.empty:
        return pd.Series([], dtype="Int64")
    seen = lock_spans(result)
    held = list(seen.loc[~seen["own"], ["relation", "mode", "start", "end", "index"]].itertuples(index=False))
    waits = result.locks[~result.locks["granted"]]
    wanted = {
        (t, pid): (rel, mode) for t, pid, rel, mode in zip(waits["t"], waits["pid"], waits["relation"], waits["mode"])
    }
    running = _running_statement(result)
    blamed = []
    for t, pid in zip(frame["t"], frame["pid"]):
        relation, mode = wanted.get((t, pid), (None, None))
        culprits = [
            s.index
            for s in held
            if mode and s.relation == relation and s.start <= t <= s.end and lockmodes.conflicts(s.mode, mode)
        ]
        blamed.append(int(min(culprits)) if culprits else running(t))
    return pd.Series(blamed, index=frame.index, dtype="Int64")


def _running_statement(result):
    executed = result.statements.dropna(subset=["start"]).sort_values("start")
    starts, indexes = executed["start"].to_numpy(), executed["index"].to_numpy()

    def at(t: float):
        i = np.searchsorted(starts, t, side="right") - 1
        return int(indexes[max(i, 0)]) if len(indexes) else None

    return at


@once
def blocked_transactions(result) -> pd.DataFrame:
    """Per application transaction that was blocked: ms blocked and the statement blamed.

    A wait starts at its `pg_locks.waitstart` (server's clock; the first sample that saw it before 14). It
    ends at the release of the statement blamed when that statement still held its locks at the last sample
    that saw the wait and no later tick saw the backend past it (a tick the sampler lost under load says
    nothing); else one interval after that sample, or at the tick that saw it past. Never after the
    transaction's end.
    """
    interval = result.manifest.config.sample_interval
    blocked = blocking(result)
    blocked["waitstart"] = _waitstarts(result, blocked)
    released = lock_spans(result).groupby("index")["end"].max() if len(blocked) else pd.Series(dtype=float)
    work = result.workload.reset_index(names="tx")
    activity = result.activity
    free = activity[activity["wait_event_type"] != "Lock"].groupby("pid")["t"].apply(np.sort)
    rows = []
    for pid, samples in blocked.groupby("pid"):
        samples = samples.sort_values("t", kind="stable")
        times = samples["t"].to_numpy(dtype=float)
        txs = work[(work["pid"] == pid) & work["actual_start"].notna() & work["end"].notna()]
        # Each transaction's samples found by binary search in the sorted times (a boolean mask per
        # transaction made a long run's analysis quadratic: minutes for a 90 s rehearsal).
        first = np.searchsorted(times, txs["actual_start"].to_numpy(dtype=float), side="left")
        last = np.searchsorted(times, txs["end"].to_numpy(dtype=float), side="right")
        for tx, lo, hi in zip(txs.itertuples(), first, last):
            if hi > lo:
                index = int(samples["index"].iloc[lo:hi].mode().iloc[0])
                began = np.nanmin([samples["waitstart"].iloc[lo:hi].min(), times[lo]])
                past = free.get(pid, np.empty(0))
                ended = _wait_end(times[hi - 1], released.get(index, np.nan), past, interval, tx.end)
                row = dict(tx=tx.tx, kind=tx.kind, pid=pid, blocked_ms=(ended - began) * 1000, index=index)
                rows.append(row | dict(ok=tx.ok))
    return pd.DataFrame(rows, columns=["tx", "kind", "pid", "blocked_ms", "index", "ok"])


def _wait_end(last: float, release: float, past: np.ndarray, interval: float, tx_end: float) -> float:
    """When a wait last seen at `last` ended (see blocked_transactions); `past`: the backend's ticks not
    waiting for a lock, sorted."""
    i = np.searchsorted(past, last, side="right")
    seen_past = past[i] if i < len(past) else np.inf
    if last <= release < seen_past:
        return min(release, tx_end)
    return min(last + interval, seen_past, tx_end)


def _waitstarts(result, blocked: pd.DataFrame) -> pd.Series:
    """Per blocked sample: when its wait began (pg_locks.waitstart, NaN where the server has none)."""
    waits = result.locks[~result.locks["granted"]]
    if "waitstart" not in waits or blocked.empty:
        return pd.Series(np.nan, index=blocked.index, dtype=float)
    first = waits.groupby(["t", "pid"])["waitstart"].min()
    keys = pd.MultiIndex.from_arrays([blocked["t"], blocked["pid"]])
    return pd.Series(first.reindex(keys).to_numpy(dtype=float), index=blocked.index)


def phase_of(result, t: pd.Series) -> pd.Series:
    start, end = result.manifest.migration_start, result.manifest.migration_end
    return pd.Series(np.where(t < start, "before", np.where(t <= end, "during", "after")), index=t.index)


def latency_by_phase(result) -> pd.DataFrame:
    """p50/p95/p99 latency (from the intended start), throughput and errors before, during, after."""
    work = result.workload.assign(phase=lambda w: phase_of(result, w["intended_start"]))
    m = result.manifest
    seconds = dict(
        before=m.migration_start - m.t0,
        during=m.migration_end - m.migration_start,
        after=max(work["end"].max() - m.migration_end, 1e-9) if len(work) else 0,
    )
    rows = []
    for phase in PHASES:
        part = work[work["phase"] == phase]
        lat = part["latency_ms"]
        rows.append(
            dict(
                phase=phase,
                transactions=len(part),
                errors=int((~part["ok"]).sum()),
                error_rate=float((~part["ok"]).mean()) if len(part) else 0.0,
                p50_ms=_pct(lat, 50),
                p95_ms=_pct(lat, 95),
                p99_ms=_pct(lat, 99),
                max_ms=float(lat.max()) if len(lat) else None,
                tx_per_s=len(part) / seconds[phase] if seconds[phase] > 0 else None,
            )
        )
    return pd.DataFrame(rows).set_index("phase")


def _pct(values: pd.Series, q: float):
    return float(np.percentile(values, q)) if len(values) else None


def errors_by_kind(result) -> pd.DataFrame:
    """Failed application transactions grouped by phase, kind and SQLSTATE, with an example message."""
    work = result.workload.assign(phase=lambda w: phase_of(result, w["intended_start"]))
    failed = work[~work["ok"]]
    return (
        failed.groupby(["phase", "kind", "sqlstate"], dropna=False)
        .agg(count=("ok", "size"), example=("error", "first"))
        .reset_index()
    )
