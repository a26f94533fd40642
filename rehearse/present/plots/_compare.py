"""Variants side by side: one metric per variant aligned on its migration start, and bars of key numbers."""

from __future__ import annotations

import numpy as np

from rehearse.analysis import delays
from rehearse.analysis import timeline as analysis
from rehearse.analysis.summary import longest_blocking_hold_ms
from rehearse.present.plots._axes import _BINS, _extent, _log_decades, _mark_statements, _migration_name, _note
from rehearse.present.plots._style import _VARIANT_COLOURS, FONT
from rehearse.present.plots._traffic import _per_bin, _rate_per_bin, _steps


def key_numbers(result) -> dict:
    """The few numbers compare() puts side by side for one run (units in the names)."""
    during = analysis.latency_by_phase(result).loc["during"]
    m = result.manifest
    return {
        # users first: every transaction the locks made late, queued in the server or in the application
        "app transactions delayed (count)": len(delays.delayed_transactions(result)),
        "p99 latency during migration (ms)": np.nan if during["p99_ms"] is None else float(during["p99_ms"]),
        "longest lock blocking writes (s)": longest_blocking_hold_ms(result) / 1000,
        "app transactions blocked (count)": len(analysis.blocked_transactions(result)),
        "app errors during migration (count)": int(during["errors"]),
        "migration duration (s)": m.migration_end - m.migration_start,
    }


def _p99_series(result, width):
    work = result.workload
    x = work["intended_start"] - result.manifest.migration_start
    return _per_bin(x, work["latency_ms"].clip(lower=0.01), width, lambda g: g.quantile(0.99))


def _throughput_series(result, width):
    work, start = result.workload, result.manifest.migration_start
    done = work["end"] - start
    span = (work["intended_start"].min() - start, done.max())
    return _rate_per_bin(done[work["ok"].astype(bool)], span, width)


def _blocked_series(result, width):
    blocked = analysis.blocking(result)
    ticks = np.sort(result.activity["t"].unique())
    counts = blocked.groupby("t").size().reindex(ticks, fill_value=0)
    return ticks - result.manifest.migration_start, counts.to_numpy()


_COMPARE_METRICS = {  # metric: (what the figure shows, y label, series(result, bin width) -> (x, y))
    "latency": ("application p99 latency", "p99 latency\n(ms, log scale)", _p99_series),
    "throughput": ("completed application transactions", "completed tx/s", _throughput_series),
    "blocked": ("application backends blocked by the migration", "app backends\nblocked (count)", _blocked_series),
}


def _compare_series(sub, results: dict, ylabel: str, series, log: bool) -> None:
    axes = np.atleast_1d(sub.subplots(len(results), 1, sharex=True, sharey=True))
    extents = [_extent(r, r.manifest.migration_start) for r in results.values()]
    lo, hi = min(e[0] for e in extents), max(e[1] for e in extents)
    width, lows = next((w for w in _BINS if (hi - lo) / w <= 80), _BINS[-1]), []
    for i, (ax, (label, r)) in enumerate(zip(axes, results.items())):
        colour = _VARIANT_COLOURS[i % len(_VARIANT_COLOURS)]
        if series is _blocked_series:
            x, y = series(r, width)
            ax.fill_between(x, 0, y, step="post", color=colour, alpha=0.6, lw=0)
            if not np.any(y):
                _note(ax, "no application backend was blocked by the migration")
        elif len(r.workload):
            x, y = series(r, width)
            _steps(ax, x, y, width, color=colour, lw=1.6)
            lows.append(y)
        ax.set_xlim(lo, hi)
        ax.set_yscale("log") if log else ax.set_ylim(bottom=0)
        ax.set_ylabel(f"{label}: {ylabel}", fontsize=FONT)
        ax.tick_params(labelsize=FONT)
        ax.grid(axis="y", color="0.9", lw=0.6)
        ax.set_title(f"{label} = {_migration_name(r)}", fontsize=FONT, loc="left", pad=14)
    if log:
        _log_decades(axes[0], np.concatenate(lows) if lows else [])  # the y axis is shared
    for ax, r in zip(axes, results.values()):
        _mark_statements(ax, r, origin=r.manifest.migration_start)
    bins = f", {width:g} s bins" if series is not _blocked_series else ""
    axes[-1].set_xlabel(f"seconds since migration start (each variant's own{bins})", fontsize=FONT)


def _compare_bars(sub, results: dict) -> None:
    numbers = {label: key_numbers(r) for label, r in results.items()}
    keys, labels = list(next(iter(numbers.values()))), list(results)
    colours = [_VARIANT_COLOURS[i % len(_VARIANT_COLOURS)] for i in range(len(labels))]
    for ax, key in zip(np.atleast_1d(sub.subplots(len(keys), 1)), keys):
        values = np.array([numbers[label][key] for label in labels], dtype=float)
        ax.barh(range(len(labels)), np.nan_to_num(values), color=colours, height=0.6)
        ax.set_yticks(range(len(labels)), labels, fontsize=FONT)
        ax.invert_yaxis()
        ax.set_title(key, fontsize=FONT, loc="left")
        top = np.nanmax(values, initial=0)
        ax.set_xlim(0, top * 1.4 if top > 0 else 1)
        ax.tick_params(labelsize=FONT - 1)
        for y, v in enumerate(values):
            ax.text(np.nan_to_num(v), y, f" {_fmt(v)}", va="center", fontsize=FONT - 1)


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"
