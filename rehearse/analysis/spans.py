"""Lock spans as the application sees them: each lock the migration held, from grant to release.

Three sources, in order of trust: the executor's catalogue read after each statement in a transaction
(exact), the sampler's pg_locks rows (statements outside a transaction block, failed ones; every 10 ms),
and the parse tree's expected locks for what neither saw (a failed statement, a DROP INDEX CONCURRENTLY
quicker than a sampling interval), marked `seen = "expected"`.

A lock on a relation created in the same transaction (the new index of CREATE INDEX) is marked `own`:
no other session can see that relation, so it blocks no one. A procedure that commits between batches
(CALL) holds its locks once per transaction it commits: the sampler's rows are split by the transaction
that held them (`pg_locks.virtualtransaction`, read with the lock; the backend's `xact_start` for runs saved
before it), one span per transaction (`tx`), each ending at the COMMIT that started the next one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.sql.expected import expected_locks
from rehearse.sql.lock_rules import search_path_schema

COLUMNS = ["index", "relation", "relkind", "mode", "start", "end", "seen", "own", "renamed_to", "tx"]
_SYSTEM = r"(pg_catalog|information_schema|pg_toast)\."


def lock_spans(result, waits: pd.Series) -> pd.DataFrame:
    """Each lock the migration held: statement index, relation, mode, start, end, hold_ms, how it was seen."""
    statements = result.statements.set_index("index")
    statements = statements.assign(
        start=statements.get("final_start", statements["start"]).fillna(statements["start"])
    )  # a retried statement holds its locks from its last attempt on
    own = result.statement_locks.merge(statements[["start", "tx_end"]], left_on="index", right_index=True)
    own["start"] = own["start"] + own["index"].map(waits).fillna(0) / 1000
    for column, default in (("own", False), ("renamed_to", None)):  # runs saved before these were recorded
        own[column] = own[column] if column in own else default
    own = own.assign(end=_released(result, own), seen="catalog", tx=0).drop(columns=["tx_end"])
    spans = pd.concat([own, _sampled(result, own)], ignore_index=True)
    spans = pd.concat([spans, _expected(result, spans)], ignore_index=True)
    spans["own"] = spans["own"].fillna(False).astype(bool)
    spans["hold_ms"] = (spans["end"] - spans["start"]) * 1000
    return spans[[*COLUMNS, "hold_ms"]].sort_values(["start", "relation"]).reset_index(drop=True)


def _released(result, own: pd.DataFrame) -> pd.Series:
    """When each lock read by the catalogue was released: its transaction's end (COMMIT's end, server's
    clock), or midway between the last tick that saw it held and the next tick of the backend when that came
    before: a COMMIT drops the files of rewritten relations after releasing its locks (200 ms at SF 0.1)."""
    locks, pid = result.locks, result.migration_pid
    held = locks[(locks["pid"] == pid) & locks["granted"]].groupby(["relation", "mode"])["t"].apply(np.sort)
    ticks = np.sort(result.activity.loc[result.activity["pid"] == pid, "t"].to_numpy(dtype=float))
    ends = []
    for relation, renamed, mode, start, end in zip(
        own["relation"], own["renamed_to"], own["mode"], own["start"], own["tx_end"]
    ):
        seen = held.get((renamed if isinstance(renamed, str) else relation, mode), np.empty(0))
        seen = seen[(seen >= start) & (seen <= end)]
        after = ticks[np.searchsorted(ticks, seen[-1], side="right") :] if len(seen) else ()
        ends.append((seen[-1] + after[0]) / 2 if len(after) and after[0] < end else end)
    return pd.Series(ends, index=own.index, dtype=float)


def _sampled(result, own: pd.DataFrame) -> pd.DataFrame:
    """Locks only the sampler saw: statements outside a transaction block, and failed ones."""
    locks = result.locks
    mine = locks[
        (locks["pid"] == result.migration_pid)
        & locks["granted"]
        & locks["relation"].notna()
        & ~locks["relation"].fillna("").str.match(_SYSTEM)
    ]
    xacts = _xact_starts(result)
    mine = mine.merge(xacts, on="t", how="left")
    mine = mine.assign(tx_key=_tx_key(mine))
    held_before, read_exactly, rows = set(), set(own["index"]), []
    created: dict = {}
    for stmt in result.statements.sort_values("index").itertuples():
        # The catalogue query after a successful statement in a transaction is exact; the sampler fills in
        # the rest: failed statements, and those that must run outside a transaction block (CONCURRENTLY…).
        exact = stmt.status == "ok" and (stmt.transaction or stmt.index in read_exactly)
        born = created.setdefault(stmt.transaction or -stmt.index, set())
        born |= set(_list(getattr(stmt, "created", None)))
        if stmt.start is None or np.isnan(stmt.start) or exact:
            continue
        mask = own["index"] == stmt.index
        covered = set(zip(own.loc[mask, "relation"], own.loc[mask, "mode"]))
        window = mine[(mine["t"] >= stmt.start) & (mine["t"] <= stmt.end)]
        txs = _transactions(window, xacts[(xacts["t"] >= stmt.start) & (xacts["t"] <= stmt.end)])
        for (relation, mode), seen in window.groupby(["relation", "mode"]):
            if (relation, mode) in covered or (stmt.transaction and (stmt.transaction, relation, mode) in held_before):
                continue
            rows += _per_transaction(result, stmt, (relation, mode, relation in born), seen, txs)
        held_before |= {(stmt.transaction, r, m) for r, m in covered}
    return pd.DataFrame(rows, columns=COLUMNS)


def _per_transaction(result, stmt, lock: tuple, seen: pd.DataFrame, txs: pd.DataFrame) -> list[dict]:
    """One span per transaction of the statement that held the lock (several for a CALL that commits), each
    released at the COMMIT that started the backend's next transaction, whether or not that one takes the lock
    again (a procedure's first transaction reads what its later ones never touch). `lock`: relation, mode, own."""
    interval = result.manifest.config.sample_interval
    rows = []
    for key, held in seen.groupby("tx_key", sort=False):
        tx = txs.loc[key]
        start = max(stmt.start, held["t"].min() - (interval / 2 if len(txs) > 1 else 0.0))
        if not np.isnan(tx["next"]):
            end = min(held["t"].max() + interval, tx["next"])
        else:  # the statement's last transaction
            end = stmt.tx_end if stmt.status == "failed" else stmt.end
        row = dict(index=stmt.index, relation=lock[0], relkind=held["relkind"].iloc[0], mode=lock[1], own=lock[2])
        rows.append(row | dict(start=start, end=end, seen="sampler", renamed_to=None, tx=int(tx["ordinal"])))
    return rows


def _tx_key(locks: pd.DataFrame) -> pd.Series:
    """Which transaction held each sampled lock: its virtual transaction id, read with the lock. Runs saved
    before it was sampled: the backend's xact_start (a tick pg_stat_activity missed takes its neighbour's)."""
    if "vxid" in locks and locks["vxid"].notna().all():
        return locks["vxid"]
    return locks.sort_values("t")["xact_start"].ffill().bfill().fillna(-1.0).reindex(locks.index)


def _transactions(window: pd.DataFrame, activity: pd.DataFrame) -> pd.DataFrame:
    """The backend's transactions that held locks during a statement, by `tx_key`, in order (`ordinal`), with
    when the next one began (`next`; NaN for the last): the earliest start pg_stat_activity showed after
    this one's. A transaction's own start is the earliest it showed for its samples: read a moment after the
    locks, pg_stat_activity may already show the next transaction, never an earlier one."""
    txs = window.groupby("tx_key").agg(first=("t", "min"), began=("xact_start", "min")).sort_values("first")
    starts = np.unique(activity["xact_start"].dropna())
    later = [starts[starts > began] for began in txs["began"]]
    return txs.assign(ordinal=range(len(txs)), next=[s[0] if len(s) else np.nan for s in later])


def _xact_starts(result) -> pd.DataFrame:
    """Per sample time: when the migration backend's current transaction started."""
    activity = result.activity
    if "xact_start" not in activity or activity.empty:
        return pd.DataFrame({"t": pd.Series(dtype=float), "xact_start": pd.Series(dtype=float)})
    mine = activity[activity["pid"] == result.migration_pid]
    return mine[["t", "xact_start"]].drop_duplicates("t").astype(float)


def _expected(result, spans: pd.DataFrame) -> pd.DataFrame:
    """The parse tree's locks for statements that ran but whose locks nobody saw: 'expected, not observed'."""
    rows, seen_by_tx = [], {}
    units = {i: int(tx) or -int(i) for i, tx in zip(result.statements["index"], result.statements["transaction"])}
    for index, relation in zip(spans["index"], spans["relation"]):
        seen_by_tx.setdefault(units[index], set()).add(relation)
    schema = "public"  # the migration's connection keeps a SET search_path for the statements after it
    carried = _carried_locks(result)
    for stmt in result.statements.sort_values("index").itertuples():
        if stmt.status not in ("ok", "failed") or stmt.start is None or np.isnan(stmt.start):
            continue
        in_force, schema = schema, (_schema_set(stmt.sql) if stmt.status == "ok" and not carried else None) or schema
        observed = seen_by_tx.setdefault(stmt.transaction or -stmt.index, set())
        if stmt.status == "ok" and stmt.transaction:
            continue  # read exactly: a lock not newly listed was already held by an earlier statement
        start = stmt.start if np.isnan(getattr(stmt, "final_start", np.nan)) else stmt.final_start
        end = stmt.tx_end if stmt.status == "failed" and stmt.tx_end else stmt.end
        locks = carried[stmt.index] if stmt.index in carried else _expected_locks(stmt.sql, in_force)
        for lock in locks:
            if lock.relation not in observed:
                row = dict(index=stmt.index, relation=lock.relation, relkind=None, mode=lock.mode, start=start)
                rows.append(row | dict(end=end, seen="expected", own=False, renamed_to=None, tx=0))
                observed.add(lock.relation)
    return pd.DataFrame(rows, columns=COLUMNS)


def _carried_locks(result) -> dict:
    """Index → the expected locks the result carries (parsed, search_path included, when the migration was
    read; the down's statements numbered after the up's, as the executor numbers them). Empty for runs saved
    before results carried their migration: those are parsed here."""
    migration = getattr(result, "migration", None)
    if migration is None:
        return {}
    carried = {st.index: st.expected_locks for st in migration.statements}
    up = len(migration.statements)
    if migration.down is not None:
        carried |= {st.index + up: st.expected_locks for st in migration.down.statements}
    return carried


def _expected_locks(sql: str, schema: str):
    try:
        return expected_locks(sql, schema)
    except Exception:  # noqa: BLE001 — a statement pglast cannot read here was read when the migration loaded
        return ()


def _schema_set(sql: str) -> str | None:
    try:
        return search_path_schema(sql)
    except Exception:  # noqa: BLE001 — as above
        return None


def _list(value) -> list:
    return [] if value is None or (isinstance(value, float) and np.isnan(value)) else list(value)
