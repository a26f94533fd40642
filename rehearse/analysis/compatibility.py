"""Which of the application's queries the migration broke, and which statement broke each: from the saved
frames of the compatibility probe (`rehearse/measure/compatibility.py`), no database needed."""

from __future__ import annotations

import pandas as pd

from rehearse.analysis.timeline import phase_of
from rehearse.measure.compatibility import INCONCLUSIVE


def table(result) -> pd.DataFrame | None:
    """One row per checked query: whether it ever failed, the first failure (time, SQLSTATE, message,
    phase), whether it recovered, and the migration statement that broke it; None when nothing was checked.

    The breaking statement is the one that had completed most recently before the first failure (its
    effect became visible then), or the one running when none had; a query that already failed before the
    migration started is broken by none of them.
    """
    frame = result.frames.get("compatibility")
    info = result.manifest.compatibility
    if frame is None or info is None:
        return None
    checks = frame[~frame["sqlstate"].isin(INCONCLUSIVE)]
    rows = []
    for i, query in enumerate(info.queries):
        mine = checks[checks["query"] == i].sort_values("t")
        failed = mine[~mine["ok"].astype(bool)]
        row = dict(
            query=query["sql"],
            name=query["name"],
            checks=len(mine),
            ok=failed.empty,
            sqlstate=None,
            message=None,
            first_failure_s=None,
            phase=None,
            recovered=None,
            broken_by_statement=None,
            broken_by_sql=None,
        )
        if not failed.empty:
            first = failed.iloc[0]
            row.update(
                sqlstate=first["sqlstate"],
                message=first["message"],
                first_failure_s=first["t"] - result.t0,
                phase=str(phase_of(result, pd.Series([first["t"]])).iloc[0]),
                recovered=not mine[(mine["t"] > first["t"]) & mine["ok"].astype(bool)].empty,
            )
            row.update(_breaker(result, first["t"]))
        rows.append(row)
    return pd.DataFrame(rows)


def _breaker(result, t: float) -> dict:
    if t < result.manifest.migration_start:
        return {}
    statements = result.statements[~result.statements["kind"].isin(["BEGIN", "COMMIT", "ROLLBACK"])]
    done = statements[statements["end"].notna() & (statements["end"] <= t)].sort_values("end")
    running = statements[(statements["start"] <= t) & ~(statements["end"] <= t)]
    chosen = done.iloc[-1] if len(done) else running.iloc[0] if len(running) else None
    if chosen is None:
        return {}
    return dict(broken_by_statement=int(chosen["index"]), broken_by_sql=chosen["sql"])


def failures(result) -> list[dict] | None:
    """The JSON summary's `compatibility`: the queries that failed; [] when all passed, None when not run."""
    frame = table(result)
    if frame is None:
        return None
    keep = [
        "query",
        "name",
        "sqlstate",
        "message",
        "broken_by_statement",
        "broken_by_sql",
        "phase",
        "first_failure_s",
        "recovered",
    ]
    rows = frame.loc[~frame["ok"], keep].to_dict(orient="records")
    for row in rows:  # a column with gaps comes back as float: statement numbers are whole
        index = row["broken_by_statement"]
        row["broken_by_statement"] = None if index is None or index != index else int(index)
    return rows
