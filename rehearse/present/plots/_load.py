"""Server load panels from the sampler's load frame: CPU, WAL, tuples written, block reads and hits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.present.plots._axes import _bin_width, _legend, _log_decades, _note
from rehearse.present.plots._style import FONT
from rehearse.present.plots._traffic import _steps


def _draw_cpu(ax, result) -> None:
    load = result.load
    t = (load["cpu_t"] if "cpu_t" in load else load["t"]) - result.t0
    ax.plot(t, load["cpu_percent"], color="tab:green", lw=1.2)
    ax.fill_between(t, 0, load["cpu_percent"], color="tab:green", alpha=0.15, lw=0)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("CPU\n(% of one core)", fontsize=FONT)


def _draw_wal(ax, result) -> None:
    width = _bin_width(result)
    starts, rate = _counter_rate(result.load, "wal_bytes", width, result.t0)
    _steps(ax, starts, rate / 1e6, width, color="tab:purple", lw=1.2)
    ax.fill_between(
        np.append(starts, starts[-1] + width) if len(starts) else starts,
        0,
        np.append(rate, rate[-1]) / 1e6 if len(rate) else rate,
        step="post",
        color="tab:purple",
        alpha=0.15,
        lw=0,
    )
    ax.set_ylim(bottom=0)
    ax.set_ylabel("WAL (MB/s)", fontsize=FONT)


def _draw_tuples(ax, result) -> None:
    # pg_stat_database moves in steps at most once a second (and after each transaction): whole seconds.
    width = max(1.0, _bin_width(result))
    for col, colour in (("tup_inserted", "tab:green"), ("tup_updated", "tab:orange"), ("tup_deleted", "tab:red")):
        if _has_load(result, (col,)):
            _steps(
                ax,
                *_counter_rate(result.load, col, width, result.t0),
                width,
                color=colour,
                lw=1.3,
                label=col.removeprefix("tup_"),
            )
    ax.set_ylim(bottom=0)
    ax.set_ylabel("tuples written\n(rows/s)", fontsize=FONT)
    _legend(ax, title=f"pg_stat_database, {width:g} s\nbins (lags up to ~1 s)")


def _draw_blocks(ax, result) -> None:
    width, shown = max(1.0, _bin_width(result)), []
    for col, colour, label in (
        ("blks_hit", "tab:blue", "found in shared buffers"),
        ("blks_read", "tab:brown", "read from disk or OS cache"),
    ):
        if _has_load(result, (col,)):
            starts, rate = _counter_rate(result.load, col, width, result.t0)
            _steps(ax, starts, np.where(rate > 0, rate, np.nan), width, color=colour, lw=1.3, label=label)
            shown.append(rate[rate > 0])
    ax.set_yscale("log")
    _log_decades(ax, np.concatenate(shown) if shown else [])
    ax.set_ylabel("8 kB blocks/s\n(log scale)", fontsize=FONT)
    _legend(ax, title=f"pg_stat_database, {width:g} s bins")


_LOAD_PANELS = (  # (what, when missing; columns needed; drawer)
    ("CPU (measured for the embedded server only)", ("cpu_percent",), _draw_cpu),
    ("WAL", ("wal_bytes",), _draw_wal),
    ("tuples written", ("tup_inserted", "tup_updated", "tup_deleted"), _draw_tuples),
    ("block reads and hits", ("blks_read", "blks_hit"), _draw_blocks),
)


def _has_load(result, columns) -> bool:
    load = result.load
    return len(load) > 1 and any(
        c in load and pd.to_numeric(load[c], errors="coerce").notna().sum() > 1 for c in columns
    )


def _counter_rate(load: pd.DataFrame, column: str, width: float, t0: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-second rate of a cumulative counter in bins of `width` (counter read at the bin edges)."""
    frame = pd.DataFrame({"t": load["t"] - t0, "c": pd.to_numeric(load[column], errors="coerce")}).dropna()
    t, c = frame["t"].to_numpy(float), frame["c"].to_numpy(float)
    if len(t) < 2:
        return np.array([]), np.array([])
    grid = np.arange(np.ceil(t[0] / width), np.floor(t[-1] / width) + 1) * width
    edges = np.unique(np.concatenate([[t[0]], grid, [t[-1]]]))
    rate = np.diff(np.interp(edges, t, c)) / np.diff(edges)
    keep = np.diff(edges) >= width / 2  # a sliver at either end would be mostly noise
    return edges[:-1][keep], rate[keep]


def _not_measured(ax, name: str) -> None:
    _note(ax, f"not measured: {name}")
    ax.set_ylabel("CPU\n(% of one core)" if name.startswith("CPU") else "WAL (MB/s)", fontsize=FONT)
    ax.set_yticks([])
