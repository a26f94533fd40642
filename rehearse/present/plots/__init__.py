"""Figures of a rehearsal on one time axis (locks, latency, load) and a comparison of variants.

Every function takes a saved `RehearsalResult` (no database) and returns a matplotlib Figure; none calls
`show()`. Times are seconds since the run's `t0` (traffic start); every time axis carries the migration's
statements as light bands labelled "#n" above the plot, and a dashed line where each transaction ended
(its locks are held until then).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from common.errors import BadInput
from rehearse.present.plots._axes import _figure, _mark_all, _migration_window, _note, _time_axes
from rehearse.present.plots._compare import _COMPARE_METRICS, _compare_bars, _compare_series, key_numbers
from rehearse.present.plots._extrapolation import extrapolation
from rehearse.present.plots._load import _LOAD_PANELS, _has_load, _not_measured
from rehearse.present.plots._locks import (
    _TABLE_KINDS,
    _draw_blocked,
    _draw_lock_rows,
    _draw_table_locks,
    _lock_rows,
    _own_waits,
    _spans,
)
from rehearse.present.plots._style import (
    BLOCKS_BOTH,
    BLOCKS_NEITHER,
    BLOCKS_WRITES,
    FONT,
    LOCK_CLASSES,
    TIME_LABEL,
    WAITING,
    lock_colour,
)
from rehearse.present.plots._traffic import _draw_latency, _draw_throughput

__all__ = [
    "lock_timeline",
    "latency",
    "load",
    "overview",
    "compare",
    "extrapolation",
    "key_numbers",
    "lock_colour",
    "FONT",
    "BLOCKS_BOTH",
    "BLOCKS_WRITES",
    "BLOCKS_NEITHER",
    "LOCK_CLASSES",
    "WAITING",
    "TIME_LABEL",
]


def lock_timeline(result, whole_run: bool = False):
    """Locks the migration held, per (relation, mode), coloured by what they block; app backends blocked.

    The time axis spans the migration and a margin around it (the whole run with `whole_run=True`).
    """
    rows = _lock_rows(_spans(result), _own_waits(result))
    fig = _figure(
        result,
        "locks held by the migration, and application backends blocked",
        height=min(10.0, 3.4 + 0.3 * max(len(rows), 4)),
    )
    axes = fig.subplots(2, 1, sharex=True, height_ratios=[max(len(rows), 4), 2.6])
    _time_axes(result, axes, window=None if whole_run else _migration_window(result))
    _draw_lock_rows(axes[0], rows, result.t0)
    _draw_blocked(axes[1], result)
    _mark_all(result, axes)
    return fig


def latency(result):
    """Every application transaction's latency (log scale) with p99 per bin; throughput and errors."""
    fig = _figure(result, "application latency, throughput and errors", height=7.5)
    axes = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.6])
    _time_axes(result, axes)
    _draw_latency(axes[0], result)
    _draw_throughput(axes[1], result)
    _mark_all(result, axes)
    return fig


def load(result):
    """Server load panels from the sampler's load frame; panels with nothing measured are left out."""
    panels = [p for p in _LOAD_PANELS if _has_load(result, p[1])]
    missing = [p[0] for p in _LOAD_PANELS if p not in panels]
    fig = _figure(result, "server load", height=min(10.0, 1.6 + 2.1 * max(len(panels), 1)))
    axes = np.atleast_1d(fig.subplots(max(len(panels), 1), 1, sharex=True))
    _time_axes(result, axes)
    for ax, (_, _, draw) in zip(axes, panels):
        draw(ax, result)
    if not panels:
        _note(axes[0], "no load samples in this run")
    if missing:
        fig.text(0.99, 0.005, "not measured: " + ", ".join(missing), ha="right", fontsize=FONT - 1, color="0.4")
    _mark_all(result, axes)
    return fig


def overview(result):
    """Table locks, latency, CPU and WAL on one shared time axis: the report's first page."""
    spans = _spans(result)
    tables = spans[spans["relkind"].isin(_TABLE_KINDS) | spans["relkind"].isna()]
    relations = list(dict.fromkeys(tables.sort_values("start")["relation"]))
    fig = _figure(result, "overview (locks, latency, CPU, WAL)", height=10.0)
    axes = fig.subplots(4, 1, sharex=True, height_ratios=[max(len(relations), 2) * 0.6 + 0.6, 3, 1.6, 1.6])
    _time_axes(result, axes)
    _draw_table_locks(axes[0], result, tables, relations)
    _draw_latency(axes[1], result)
    for ax, (name, columns, draw) in zip(axes[2:], _LOAD_PANELS[:2]):
        draw(ax, result) if _has_load(result, columns) else _not_measured(ax, name)
    _mark_all(result, axes)
    return fig


def compare(results: dict, metric: str = "latency"):
    """Variants side by side, aligned on each one's migration start, and a bar chart of key numbers."""
    if metric not in _COMPARE_METRICS:
        raise BadInput(f"unknown metric {metric!r}; use one of {', '.join(_COMPARE_METRICS)}")
    if not results:
        raise BadInput("compare() needs at least one result, e.g. {'risky': r1, 'safer': r2}")
    what, ylabel, series = _COMPARE_METRICS[metric]
    fig = plt.figure(figsize=(13, min(10.0, 3.4 + 2.4 * len(results))), layout="constrained")
    plt.close(fig)  # returned, not kept by pyplot: shown once in a notebook, never leaked
    fig.suptitle(f"{' vs '.join(results)}: {what}, aligned on each migration's start", fontsize=FONT + 3)
    left, right = fig.subfigures(1, 2, width_ratios=[2.1, 1])
    _compare_series(left, results, ylabel, series, log=metric == "latency")
    _compare_bars(right, results)
    return fig
