"""Per-statement impact table and the JSON summary of a run (the contract CI gates read)."""

from __future__ import annotations

import math
from dataclasses import asdict

import pandas as pd

from rehearse.analysis import compatibility, delays
from rehearse.analysis import timeline as analysis
from rehearse.analysis.derived import once
from rehearse.sql import locks as lockmodes


def statement_impact(result, delayed: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per migration statement: what it locked, for how long, and what the application felt
    (`delayed`: the delayed transactions to count, by default the run's own; computed once per result)."""
    return _impact(result) if delayed is None else _impact_table(result, delayed)


@once
def _impact(result) -> pd.DataFrame:
    return _impact_table(result, delays.delayed_transactions(result))


def _impact_table(result, delayed: pd.DataFrame) -> pd.DataFrame:
    spans = analysis.lock_spans(result)
    waits, wait_source = analysis.lock_waits(result), analysis.lock_wait_source(result)
    blocked = analysis.blocked_transactions(result)
    rows = []
    for stmt in result.statements.sort_values("index").itertuples():
        mine = spans[spans["index"] == stmt.index]
        seen = mine[~mine["own"]]  # what the application could see: not the relations it created
        hit = blocked[blocked["index"] == stmt.index]
        rows.append(
            dict(
                index=stmt.index,
                phase=stmt.phase,
                sql=stmt.sql,
                kind=stmt.kind,
                status=stmt.status,
                ran_as=getattr(stmt, "ran_as", None),  # runs saved before the roles existed have none
                duration_ms=_ms(stmt.start, stmt.end),
                rows=_int(stmt.rows),
                locks=_locks(mine),
                strongest_lock=lockmodes.strongest(seen["mode"]) if len(seen) else None,
                locks_expected_only=bool(len(seen)) and bool((seen["seen"] == "expected").all()),
                lock_wait_ms=float(waits.get(stmt.index, 0.0)),
                lock_wait_source=wait_source.get(stmt.index, "sampler"),  # 'server log': exact, else sampled
                lock_hold_ms=float(seen["hold_ms"].max()) if len(seen) else 0.0,  # the longest single hold
                lock_hold_count=int(seen["tx"].nunique()) if len(seen) else 0,  # one per transaction holding
                **delays.figures(delayed[delayed["index"] == stmt.index]),
                rewrote=bool(len(stmt.rewritten)),
                rewritten=list(stmt.rewritten),
                scanned=bool(len(stmt.scanned)),
                scanned_tables=list(stmt.scanned),
                blocked_app_tx=len(hit),
                blocked_app_ms_max=float(hit["blocked_ms"].max()) if len(hit) else 0.0,
                blocked_app_ms_total=float(hit["blocked_ms"].sum()),
                wal_bytes=int(stmt.wal_bytes),
                dead_tuples=int(stmt.dead_tuples),
                size_delta_bytes=int(stmt.size_delta_bytes),
                error=None if stmt.status != "failed" else dict(sqlstate=stmt.sqlstate, message=stmt.error),
            )
        )
    return pd.DataFrame(rows)


def summary(result) -> dict:
    """The JSON summary: per statement, and the workload before/during/after."""
    delayed = delays.delayed_transactions(result)
    impact = statement_impact(result)
    phases = analysis.latency_by_phase(result)
    blocked = analysis.blocked_transactions(result)
    return _clean(
        dict(
            run_id=result.run_id,
            migration=result.manifest.migration,
            outcome="failed" if result.failed else "succeeded",
            scale=result.manifest.scale,
            seed=result.manifest.seed,
            postgres_version=result.manifest.postgres_version,
            statements=impact.to_dict(orient="records"),
            **delays.figures(delayed),
            blocked_app_tx=len(blocked),
            blocked_app_ms_max=float(blocked["blocked_ms"].max()) if len(blocked) else 0.0,
            state_after=asdict(result.manifest.state_after) if result.manifest.state_after else None,
            rollback=_rollback(result.manifest.rollback),
            workload={phase: row for phase, row in phases.to_dict(orient="index").items()},
            target_rate=result.manifest.config.app_rate,
            errors=analysis.errors_by_kind(result).to_dict(orient="records"),
            compatibility=compatibility.failures(result),
        )
    )


def longest_blocking_hold_ms(result) -> float:
    """The longest the migration held a lock that blocks the application's writes, ms (0: none)."""
    spans = analysis.lock_spans(result)
    blocking = spans[spans["mode"].map(lambda mode: isinstance(mode, str) and lockmodes.blocks_writes(mode))]
    return float(blocking["hold_ms"].max()) if len(blocking) else 0.0


def _locks(spans: pd.DataFrame) -> list[dict]:
    """{relation, mode} per lock, marked where the application sees it otherwise: own relation, renamed, expected."""
    out = []
    for s in spans.drop_duplicates(["relation", "mode"]).itertuples():
        lock = dict(relation=s.relation, mode=s.mode)
        if s.own:
            lock["own"] = True  # a relation created in the same transaction: no other session can see it
        if isinstance(s.renamed_to, str):
            lock["renamed_to"] = s.renamed_to
        if s.seen == "expected":
            lock["expected"] = "expected, not observed"
        out.append(lock)
    return out


def _rollback(report: dict | None) -> dict | None:
    """The JSON contract: {restored, schema_diff, rows_lost}, plus the detail behind them."""
    if report is None:
        return None
    return dict(
        restored=report.restored,
        schema_diff=report.schema_diff,
        rows_lost=report.rows_lost,
        tested=report.tested,
        rows_lost_by_table=report.rows_lost_by_table,
        down_error=report.down_error,
        up_error=report.up_error,
        reapplied=report.reapplied,
    )


def _ms(start, end):
    return None if _missing(start) or _missing(end) else (end - start) * 1000


def _int(value):
    return None if _missing(value) else int(value)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _clean(value):
    """JSON-safe: NaN → None, numpy scalars → Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):
        return _clean(value.tolist())
    if _missing(value):
        return None
    return value
