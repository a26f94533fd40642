"""The points a scaled rehearsal fits: per statement and scale, the rows of the table it touches and its times.

Each statement (matched by index across scales) is fitted against the rows of the table it touches: the
largest dataset table among the relations it locked, scanned or rewrote (and the locks the parser expects).
A statement that builds an index or writes every row is marked `btree`: its work grows as n log n (fit.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.analysis.summary import statement_impact
from rehearse.extrapolate import fit as _fit
from rehearse.extrapolate.inner import inner_query
from rehearse.extrapolate.sort import index_build

METRICS = {"duration": "duration_ms", "lock_hold": "lock_hold_ms"}


def points(results, expected: dict) -> pd.DataFrame:
    frames = []
    for result in results:
        impact = statement_impact(result).assign(scale=result.manifest.scale)
        impact["touched"] = [_touched(s, expected.get(s.index, set())) for s in impact.itertuples()]
        sizes = {f"public.{t}": n for t, n in result.manifest.table_rows.items()}
        impact["table_rows"] = [sizes] * len(impact)
        impact["reads_all"] = impact["scanned"] | impact["rewrote"]
        impact["writes_all"] = impact["rewrote"] | impact["scanned"] & impact["rows"].fillna(0).gt(0)
        impact["btree"] = [fills_btrees(sql, writes) for sql, writes in zip(impact["sql"], impact["writes_all"])]
        for kind in ("reads_all", "writes_all", "btree"):
            impact[f"hold_{kind}"] = _held_over(impact, result.statements, kind)
        frames.append(impact)
    points = pd.concat(frames, ignore_index=True)
    tables = {i: _largest(g) for i, g in points.groupby("index")}
    points["table"] = points["index"].map(tables)  # NaN where a statement touched no dataset table
    points["rows"] = [r.get(t, np.nan) for r, t in zip(points["table_rows"], points["table"])]
    ok = points["status"].eq("ok") & points["duration_ms"].notna()  # a failed statement's time says nothing
    return points.loc[
        ok,
        [
            "index",
            "scale",
            "sql",
            "table",
            "rows",
            "duration_ms",
            "lock_hold_ms",
            "reads_all",
            "hold_reads_all",
            "writes_all",
            "hold_writes_all",
            "btree",
            "hold_btree",
        ],
    ]


def fills_btrees(sql: str | None, writes_all: bool) -> bool:
    """Whether a statement's work grows as n log n: it builds a btree (a sort) or writes every row (each row
    version is inserted into every btree of the table)."""
    return bool(writes_all) or (isinstance(sql, str) and index_build(sql) is not None)


def _held_over(impact: pd.DataFrame, statements: pd.DataFrame, kind: str) -> list[bool]:
    """Per statement: whether its locks stay held while it, or a later statement of its transaction, does
    `kind` (reads_all, writes_all): ADD COLUMN's lock is held through the backfill UPDATE after it."""
    tx = statements.set_index("index")["transaction"]
    does = dict(zip(impact["index"], impact[kind]))
    return [
        does[i] or bool(tx.get(i)) and any(does[j] for j in does if j >= i and tx.get(j) == tx.get(i))
        for i in impact["index"]
    ]


def _touched(statement, expected: set[str]) -> set[str]:
    locked = {lock["relation"] for lock in statement.locks}
    return locked | set(statement.scanned_tables) | set(statement.rewritten) | expected


def _largest(group: pd.DataFrame) -> str | None:
    """The dataset table with the most rows (at the largest scale) among those the statement touched."""
    touched = set().union(*group["touched"])
    sizes = group["table_rows"].iloc[-1]
    candidates = [t for t in touched if t in sizes]
    return max(candidates, key=sizes.get) if candidates else None


def xy(group: pd.DataFrame, metric: str):
    """Points, candidate models and the preferred one, as `fit.fit` takes them. No table touched: rows do not
    matter, only a constant fits (n = 1). A whole-table read or rewrite cannot take constant time: then only
    linear and n log n compete. A CHECK validation is one sequential scan testing each row (no sort, no index
    to maintain): linear only, as three small scales' timings would otherwise pick n log n from their noise
    (+37 % at SF 1 once). A statement (or a lock held through one) that builds an index or writes every row
    prefers n log n where the scales cannot tell it from linear."""
    if not table_of(group):
        return np.ones(len(group)), group[METRICS[metric]].to_numpy(float), ("constant",), None
    held = "" if metric == "duration" else "hold_"
    reads = group[f"{held}reads_all"].any()
    models = _fit.MODELS[1:] if reads else _fit.MODELS
    if reads and "sql" in group and _scans_only(group["sql"].iloc[0]):
        models = ("linear",)
    prefer = "nlogn" if group.get(f"{held}btree", pd.Series(False)).any() else None
    return group["rows"].to_numpy(float), group[METRICS[metric]].to_numpy(float), models, prefer


def _scans_only(sql: str) -> bool:
    inner = inner_query(sql)
    return inner is not None and inner.what == "check validation"


def table_of(group: pd.DataFrame) -> str | None:
    table = group["table"].iloc[0]
    return table if isinstance(table, str) else None


def fit_frame(points: pd.DataFrame, models: dict) -> pd.DataFrame:
    tables = {i: table_of(group) for i, group in points.groupby("index")}
    return pd.DataFrame(
        [
            dict(
                index=i,
                table=tables[i],
                metric=m,
                model=f.model,
                a_ms=f.a,
                b_ms=f.b,
                loo_log_rmse=f.loo,
                sigma_log=f.sigma,
                dof=f.dof,
                points=f.points,
                also_close=",".join(a.model for a in f.alternatives),
            )
            for (i, m), f in models.items()
        ]
    )
