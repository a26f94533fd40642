"""Transaction kinds grouped for reading: the top kinds by count, the rest lumped together as "other".

A replayed workload (`--workload`) has one kind per statement, often dozens; a plot legend or a table with
one row per kind stops being readable long before that. The groups are chosen by transaction count over the
whole run, so the same kinds are shown before, during and after the migration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.analysis.timeline import PHASES, phase_of

TOP_KINDS = 6
OTHER = "other"


def top_kinds(result, top: int = TOP_KINDS) -> list[str]:
    """The `top` most frequent kinds, most frequent first (ties by name, so the order is stable)."""
    counts = result.workload["kind"].value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [kind for kind, _ in ranked[:top]]


def kind_groups(result, top: int = TOP_KINDS) -> pd.Series:
    """Per transaction, its kind when among the top ones, else "other" (a kind named "other" stays itself)."""
    kinds = result.workload["kind"]
    keep = set(top_kinds(result, top))
    return kinds.where(kinds.isin(keep), OTHER)


def group_order(result, top: int = TOP_KINDS) -> list[str]:
    """The groups in the order they are shown: the top kinds, then "other" when anything was lumped."""
    groups = top_kinds(result, top)
    return groups + [OTHER] if len(result.workload["kind"].unique()) > len(groups) else groups


def latency_by_kind(result, top: int = TOP_KINDS) -> pd.DataFrame:
    """Per kind group and phase: transactions, errors, p50/p99 latency (ms from the intended start)."""
    work = result.workload.assign(group=kind_groups(result, top), phase=lambda w: phase_of(result, w["intended_start"]))
    rows = []
    for group in group_order(result, top):
        for phase in PHASES:
            part = work[(work["group"] == group) & (work["phase"] == phase)]
            lat = part["latency_ms"]
            rows.append(
                dict(
                    kind=group,
                    phase=phase,
                    transactions=len(part),
                    errors=int((~part["ok"].astype(bool)).sum()),
                    p50_ms=float(np.percentile(lat, 50)) if len(lat) else None,
                    p99_ms=float(np.percentile(lat, 99)) if len(lat) else None,
                )
            )
    return pd.DataFrame(rows, columns=["kind", "phase", "transactions", "errors", "p50_ms", "p99_ms"])


def errors_by_kind(result, top: int = TOP_KINDS) -> pd.DataFrame:
    """Failed transactions by phase, kind group and SQLSTATE, with an example message (the JSON summary keeps
    every kind: `timeline.errors_by_kind`)."""
    work = result.workload.assign(kind=kind_groups(result, top), phase=lambda w: phase_of(result, w["intended_start"]))
    failed = work[~work["ok"].astype(bool)]
    return (
        failed.groupby(["phase", "kind", "sqlstate"], dropna=False)
        .agg(count=("ok", "size"), example=("error", "first"))
        .reset_index()
    )
