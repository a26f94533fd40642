"""Time axes and the migration's statements on them: extents, bin widths, bands, labels; figure helpers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from rehearse.present.plots._style import FONT, TIME_LABEL

_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "ROLLBACK TO"}
_MAX_LABELS, _MIN_LABEL_PX, _LABEL_GAP_PX = 12, 4.0, 26.0
_BINS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # seconds; the finest giving at most ~80 bins


def _time_axes(result, axes, origin: float | None = None, window: tuple | None = None) -> None:
    """Set the common x range first: bars and labels are sized in pixels of it."""
    lo, hi = window or _extent(result, origin)
    for ax in axes:
        ax.set_xlim(lo, hi)
        ax.tick_params(labelsize=FONT)
        ax.grid(axis="y", color="0.9", lw=0.6)
    axes[-1].set_xlabel(TIME_LABEL if origin is None else "seconds since migration start", fontsize=FONT)


def _mark_all(result, axes) -> None:
    for ax in axes:
        _mark_statements(ax, result)


def _mark_statements(ax, result, origin: float | None = None, labels: bool = True) -> None:
    """A light band per executed statement with "#n" above it; a dashed line at each transaction end."""
    origin = result.t0 if origin is None else origin
    stmts = _executed(result)
    for s in stmts.itertuples():
        failed = s.status == "failed"
        ax.axvspan(
            s.start - origin,
            s.end - origin,
            color="tab:red" if failed else "tab:blue",
            alpha=0.16 if failed else 0.10,
            lw=0,
            zorder=0,
        )
    for t in _distinct(stmts["tx_end"].to_numpy() - origin, _px_per_second(ax)):
        ax.axvline(t, color="0.35", lw=0.9, ls=(0, (4, 3)), zorder=1)
    if labels:
        _label_statements(ax, stmts, origin)


def _label_statements(ax, stmts: pd.DataFrame, origin: float) -> None:
    """At most _MAX_LABELS labels: widest bands first, none narrower than a few pixels, none overlapping."""
    px_per_s, (lo, hi) = _px_per_second(ax), ax.get_xlim()
    stmts = stmts.assign(px=(stmts["end"] - stmts["start"]) * px_per_s).sort_values("px", ascending=False)
    placed: list[float] = []
    for s in stmts.itertuples():
        centre = (s.start + s.end) / 2 - origin
        if s.px < _MIN_LABEL_PX or len(placed) >= _MAX_LABELS:
            break
        if not lo <= centre <= hi or any(abs(centre - c) * px_per_s < _LABEL_GAP_PX for c in placed):
            continue
        placed.append(centre)
        ax.text(
            centre,
            1.0,
            f"#{s.index}",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=FONT - 1,
            color="tab:red" if s.status == "failed" else "0.2",
            clip_on=False,
            fontweight="bold" if s.status == "failed" else "normal",
        )


def _executed(result) -> pd.DataFrame:
    """Statements that ran (not BEGIN/COMMIT), with `end` and `tx_end` filled when a failure left them out."""
    stmts = result.statements.copy()
    for col in ("start", "end", "tx_end"):
        stmts[col] = pd.to_numeric(stmts[col], errors="coerce")
    stmts = stmts[stmts["start"].notna() & ~stmts["kind"].isin(_CONTROL)]
    last = result.manifest.migration_end
    stmts["end"] = stmts["end"].fillna(stmts["tx_end"]).fillna(last if last is not None else stmts["start"])
    stmts["end"] = np.maximum(stmts["end"], stmts["start"])
    stmts["tx_end"] = stmts["tx_end"].fillna(stmts["end"])
    return stmts.sort_values("start")


def _distinct(times: np.ndarray, px_per_s: float, px: float = 2.0) -> list[float]:
    """Drop times within `px` pixels of one already kept (a batch of commits would be one grey smear)."""
    kept: list[float] = []
    for t in np.sort(times):
        if not kept or (t - kept[-1]) * px_per_s >= px:
            kept.append(float(t))
    return kept


def _px_per_second(ax) -> float:
    lo, hi = ax.get_xlim()
    return ax.get_window_extent().width / max(hi - lo, 1e-9)


def _extent(result, origin: float | None = None) -> tuple[float, float]:
    origin = result.t0 if origin is None else origin
    m = result.manifest
    times = [result.t0, m.migration_start, m.migration_end]
    work, stmts = result.workload, _executed(result)
    if len(work):
        times += [work["end"].max(), work["intended_start"].min()]
    if len(stmts):
        times += [stmts["tx_end"].max()]
    if len(result.load):
        times += [result.load["t"].max()]
    times = [t for t in times if t is not None and np.isfinite(t)]
    lo, hi = min(times) - origin, max(times) - origin
    pad = 0.01 * max(hi - lo, 1.0)
    return lo - pad, hi + pad


def _migration_window(result) -> tuple[float, float]:
    """The migration (start to last transaction end) with a margin, within the run, in seconds since t0."""
    m, stmts = result.manifest, _executed(result)
    start = m.migration_start
    end = np.nanmax([m.migration_end, stmts["tx_end"].max() if len(stmts) else np.nan])
    if not (np.isfinite(start) and np.isfinite(end)):
        return _extent(result)
    lo, hi = _extent(result)
    margin = max(0.25, 0.15 * (end - start))
    return max(lo, start - result.t0 - margin), min(hi, end - result.t0 + margin)


def _bin_width(result) -> float:
    lo, hi = _extent(result)
    return next((w for w in _BINS if (hi - lo) / w <= 80), _BINS[-1])


def _per(width: float) -> str:
    return "per second" if width == 1 else f"per {width:g} s"


def _figure(result, what: str, height: float):
    fig = plt.figure(figsize=(12, height), layout="constrained")
    plt.close(fig)  # returned, not kept by pyplot: shown once in a notebook, never leaked
    fig.suptitle(f"{_migration_name(result)}: {what}", fontsize=FONT + 3)
    return fig


def _migration_name(result) -> str:
    """The migration's name, with its folder when the name alone is a variant ("risky", "safer")."""
    name = str(result.manifest.migration or result.run_id)
    sources = result.manifest.sources or []
    if sources:
        folder = Path(sources[0]).parent
        if folder.name == name and folder.parent.name:
            return f"{folder.parent.name}/{name}"
    return name


def _legend(ax, **kw) -> None:
    """Outside the plot on the right, so it hides neither data nor statement labels; long labels wrapped."""
    handles = kw.pop("handles", None)
    if handles is None:
        handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles,
            [textwrap.fill(h.get_label(), 27) for h in handles],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0,
            fontsize=FONT - 1,
            title_fontsize=FONT - 1,
            frameon=False,
            alignment="left",
            **kw,
        )


def _log_decades(ax, values) -> None:
    """Whole decades, at least two, labelled as plain numbers (1, 10, 100), not 6×10⁰."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return
    lo, hi = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
    ax.set_ylim(10**lo, 10 ** max(hi, lo + 2))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=FONT, color="0.4")
