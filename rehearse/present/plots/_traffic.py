"""Application traffic over time: latency dots with p99 per bin, throughput and errors; binning helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rehearse.analysis import kinds
from rehearse.present.plots._axes import _bin_width, _legend, _log_decades, _note, _per
from rehearse.present.plots._style import FONT

# The top kinds' colours (analysis.kinds.TOP_KINDS of them), in order; red is kept for errors.
KIND_COLOURS = ("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:olive", "tab:cyan", "tab:pink")


def _draw_latency(ax, result) -> None:
    work, width = result.workload, _bin_width(result)
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms, log scale)\nfrom intended start", fontsize=FONT)
    if work.empty:
        _note(ax, "no application transactions recorded")
        return
    x, y, ok = work["intended_start"] - result.t0, work["latency_ms"].clip(lower=0.01), work["ok"].astype(bool)
    groups, order = kinds.kind_groups(result), kinds.group_order(result)
    for group, colour in zip(order, _kind_colours(order)):
        shown = ok & (groups == group)
        label = "transaction (ok)" if len(order) == 1 else f"{group} (ok)"
        ax.scatter(x[shown], y[shown], s=4, color=colour, alpha=0.3, lw=0, label=label, zorder=2, rasterized=True)
    if (~ok).any():
        ax.scatter(x[~ok], y[~ok], s=22, color="tab:red", marker="x", lw=1.0, label="transaction (error)", zorder=4)
    _steps(
        ax,
        *_per_bin(x, y, width, lambda g: g.quantile(0.99)),
        width,
        color="black",
        lw=1.6,
        label=f"p99 {_per(width)}",
        zorder=4,
    )
    _log_decades(ax, y)
    _legend(ax, markerscale=2.5)


def _kind_colours(order: list[str]) -> list[str]:
    """One colour per kind group (never red: red is an error), grey for the lumped "other"."""
    colours = iter(KIND_COLOURS)
    return ["0.55" if group == kinds.OTHER else next(colours) for group in order]


def _draw_throughput(ax, result) -> None:
    work, width = result.workload, _bin_width(result)
    ax.set_ylabel("transactions/s", fontsize=FONT)
    if work.empty:
        _note(ax, "no application transactions recorded")
        return
    done, ok = work["end"] - result.t0, work["ok"].astype(bool)
    span = (work["intended_start"].min() - result.t0, done.max())
    rate = result.manifest.config.app_rate
    if rate:
        ax.axhline(rate, color="0.4", lw=0.9, ls=":", label=f"target rate ({rate:g} tx/s)")
    _steps(ax, *_rate_per_bin(done[ok], span, width), width, color="tab:blue", lw=1.4, label="completed tx/s")
    starts, errors = _rate_per_bin(done[~ok], span, width)
    ax.bar(starts, errors, width=width * 0.9, align="edge", color="tab:red", alpha=0.8, label="errors/s", zorder=3)
    ax.set_ylim(bottom=0)
    _legend(ax, title=f"{width:g} s bins, by end time")


def _steps(ax, starts: np.ndarray, values: np.ndarray, width: float, **kw) -> None:
    """One flat step per bin [start, start + width)."""
    if len(starts):
        ax.step(np.append(starts, starts[-1] + width), np.append(values, values[-1]), where="post", **kw)


def _per_bin(x: pd.Series, y: pd.Series, width: float, agg) -> tuple[np.ndarray, np.ndarray]:
    out = y.groupby(np.floor(x / width).astype(int)).apply(agg)
    return out.index.to_numpy() * width, out.to_numpy()


def _rate_per_bin(times: pd.Series, span: tuple[float, float], width: float) -> tuple[np.ndarray, np.ndarray]:
    """Events per second in bins of `width`; a bin the run only partly covered is divided by its coverage."""
    first, last = int(np.floor(span[0] / width)), int(np.floor(span[1] / width))
    bins = np.arange(first, last + 1)
    counts = pd.Series(np.floor(times / width).astype(int)).value_counts().reindex(bins, fill_value=0)
    starts = bins * width
    cover = np.minimum(starts + width, span[1]) - np.maximum(starts, span[0])
    keep = cover >= width / 2
    return starts[keep], counts.to_numpy()[keep] / cover[keep]
