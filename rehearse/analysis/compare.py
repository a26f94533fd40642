"""Risky beside safer: one row of key numbers per rehearsed variant, for notebooks and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.analysis import timeline as analysis
from rehearse.analysis.summary import longest_blocking_hold_ms, statement_impact
from rehearse.sql import locks as lockmodes


def variant_numbers(result) -> dict:
    """The numbers a release review asks for, for one rehearsal."""
    impact = statement_impact(result)
    phases = analysis.latency_by_phase(result)
    modes = [m for m in impact["strongest_lock"] if isinstance(m, str)]
    m = result.manifest
    return {
        "outcome": "failed" if result.failed else "succeeded",
        "migration s": m.migration_end - m.migration_start,
        "strongest lock": lockmodes.strongest(modes) if modes else None,
        "longest blocking hold ms": longest_blocking_hold_ms(result),
        "app tx blocked": int(impact["blocked_app_tx"].sum()),
        "max blocked ms": float(impact["blocked_app_ms_max"].max()) if len(impact) else 0.0,
        "p99 before ms": phases.loc["before", "p99_ms"],
        "p99 during ms": phases.loc["during", "p99_ms"],
        "p99 after ms": phases.loc["after", "p99_ms"],
        "app errors": int(phases["errors"].sum()),
        "rewrote": bool(impact["rewrote"].any()),
        "WAL MB": float(impact["wal_bytes"].sum()) / 1e6,
        "server CPU s": _cpu_seconds(result),
    }


def findings_table(results: dict) -> pd.DataFrame:
    """Variants as columns (e.g. risky, safer), numbers as rows: reads top to bottom in a review."""
    return pd.DataFrame({name: variant_numbers(result) for name, result in results.items()})


def _cpu_seconds(result) -> float:
    """Server CPU seconds spent while the migration ran (NaN on a remote server)."""
    load = result.load
    if "cpu_seconds" not in load or load["cpu_seconds"].isna().all():
        return float("nan")
    m = result.manifest
    during = load[(load["t"] >= m.migration_start) & (load["t"] <= m.migration_end + 0.2)]
    if len(during) < 2:
        return float("nan")
    return float(np.nanmax(during["cpu_seconds"]) - np.nanmin(during["cpu_seconds"]))
