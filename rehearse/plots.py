"""Figures of a rehearsal on one time axis (locks, latency, load) and a comparison of variants.

Every function takes a saved `RehearsalResult` (no database) and returns a matplotlib Figure; none calls
`show()`. Times are seconds since the run's `t0` (traffic start); every time axis carries the migration's
statements as light bands labelled "#n" above the plot, and a dashed line where each transaction ended
(its locks are held until then).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from dbserver.errors import BadInput

from . import analysis
from . import locks as lockmodes

FONT = 10
BLOCKS_BOTH, BLOCKS_WRITES, BLOCKS_NEITHER = "#d62728", "#ff7f0e", "#8c9a8c"
LOCK_CLASSES = {  # colour: what a reviewer needs to know about a lock, in words
    BLOCKS_BOTH: "blocks reads and writes",
    BLOCKS_WRITES: "blocks writes (reads go on)",
    BLOCKS_NEITHER: "blocks neither reads nor writes",
}
WAITING = "migration waiting for the lock"
TIME_LABEL = "seconds since traffic start"
_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "ROLLBACK TO"}
_TABLE_KINDS = {"r", "p", "m", "f"}
# The executor's own bookkeeping queries run inside the migration's transaction and hold AccessShareLock
# on catalogue tables and views; the sampler sees them as the migration's. They block nothing: not drawn.
_CATALOG_SCHEMAS = ("pg_catalog.", "information_schema.")
_MAX_LABELS, _MIN_LABEL_PX, _LABEL_GAP_PX, _MIN_BAR_PX = 12, 4.0, 26.0, 2.0
_BINS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # seconds; the finest giving at most ~80 bins
_VARIANT_COLOURS = ("tab:blue", "tab:purple", "tab:brown", "tab:olive", "tab:cyan", "tab:pink")


# -- the figures ----------------------------------------------------------------------------------------

def lock_timeline(result, whole_run: bool = False):
    """Locks the migration held, per (relation, mode), coloured by what they block; app backends blocked.

    The time axis spans the migration and a margin around it (the whole run with `whole_run=True`).
    """
    rows = _lock_rows(_spans(result), _own_waits(result))
    fig = _figure(result, "locks held by the migration, and application backends blocked",
                  height=min(10.0, 3.4 + 0.3 * max(len(rows), 4)))
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


def key_numbers(result) -> dict:
    """The few numbers compare() puts side by side for one run (units in the names)."""
    during = analysis.latency_by_phase(result).loc["during"]
    spans = _spans(result)
    blocking = spans[spans["mode"].map(lock_colour) != BLOCKS_NEITHER]
    m = result.manifest
    return {
        "p99 latency during migration (ms)": np.nan if during["p99_ms"] is None else float(during["p99_ms"]),
        "longest lock blocking writes (s)": float(blocking["hold_ms"].max() / 1000) if len(blocking) else 0.0,
        "app transactions blocked (count)": len(analysis.blocked_transactions(result)),
        "app errors during migration (count)": int(during["errors"]),
        "migration duration (s)": m["migration_end"] - m["migration_start"],
    }


def lock_colour(mode: str) -> str:
    """Red when the mode blocks reads (and so writes), orange when only writes, grey when neither."""
    if mode in lockmodes.MODES and lockmodes.blocks_reads(mode):
        return BLOCKS_BOTH
    if mode in lockmodes.MODES and lockmodes.blocks_writes(mode):
        return BLOCKS_WRITES
    return BLOCKS_NEITHER


# -- time axes and the statements on them ---------------------------------------------------------------

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
        ax.axvspan(s.start - origin, s.end - origin, color="tab:red" if failed else "tab:blue",
                   alpha=0.16 if failed else 0.10, lw=0, zorder=0)
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
        ax.text(centre, 1.0, f"#{s.index}", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=FONT - 1, color="tab:red" if s.status == "failed" else "0.2", clip_on=False,
                fontweight="bold" if s.status == "failed" else "normal")


def _executed(result) -> pd.DataFrame:
    """Statements that ran (not BEGIN/COMMIT), with `end` and `tx_end` filled when a failure left them out."""
    stmts = result.statements.copy()
    for col in ("start", "end", "tx_end"):
        stmts[col] = pd.to_numeric(stmts[col], errors="coerce")
    stmts = stmts[stmts["start"].notna() & ~stmts["kind"].isin(_CONTROL)]
    last = result.manifest.get("migration_end")
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
    times = [result.t0, m.get("migration_start"), m.get("migration_end")]
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
    start = m.get("migration_start", np.nan)
    end = np.nanmax([m.get("migration_end", np.nan), stmts["tx_end"].max() if len(stmts) else np.nan])
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


# -- locks --------------------------------------------------------------------------------------------

def _spans(result) -> pd.DataFrame:
    spans = analysis.lock_spans(result)
    spans = spans[~spans["relation"].astype(str).str.startswith(_CATALOG_SCHEMAS)].copy()
    spans["start"] = pd.to_numeric(spans["start"], errors="coerce")
    spans["end"] = pd.to_numeric(spans["end"], errors="coerce")
    last = result.manifest.get("migration_end")
    spans["end"] = spans["end"].fillna(last if last is not None else spans["start"])
    return spans[spans["start"].notna()]


def _own_waits(result) -> pd.DataFrame:
    """Periods the migration waited for a lock: statement start to start + lock_waits, with what it wanted."""
    waits = analysis.lock_waits(result)
    waits = waits[waits > 0]
    locks, pid = result.locks, result.migration_pid
    wanting = locks[(locks["pid"] == pid) & ~locks["granted"].astype(bool)] if len(locks) else locks
    stmts = _executed(result).set_index("index")
    rows = []
    for index, ms in waits.items():
        if index not in stmts.index:
            continue
        start = stmts.at[index, "start"]
        seen = wanting[(wanting["t"] >= start) & (wanting["t"] <= start + ms / 1000)]
        named = seen.dropna(subset=["relation"])  # a row-lock wait has no relation: then the first one seen
        first = named.iloc[0] if len(named) else seen.iloc[0] if len(seen) else None
        rows.append(dict(index=index, relation=None if first is None else first["relation"],
                         mode=None if first is None else first["mode"], start=start, end=start + ms / 1000))
    return pd.DataFrame(rows, columns=["index", "relation", "mode", "start", "end"])


def _lock_rows(spans: pd.DataFrame, waits: pd.DataFrame) -> list[dict]:
    """One row per (relation, mode) with its spans and the migration's waits for it."""
    rows = []  # what blocks the application first (red, then orange), then in the order taken
    severity = spans["mode"].map(lambda m: list(LOCK_CLASSES).index(lock_colour(m)))
    order = (spans.assign(rank=spans["mode"].map(_rank), severity=severity)
             .sort_values(["severity", "start", "rank"], ascending=[True, True, False]))
    for (relation, mode), part in order.groupby(["relation", "mode"], sort=False):
        rows.append(dict(relation=relation, mode=mode, relkind=part["relkind"].iloc[0], spans=part,
                         waits=waits[(waits["relation"] == relation) & (waits["mode"] == mode)]))
    placed = {(r["relation"], r["mode"]) for r in rows}
    for w in waits.itertuples():  # waited for and never got (lock_timeout): a row of its own
        if (w.relation, w.mode) not in placed:
            placed.add((w.relation, w.mode))
            same = waits[(waits["relation"] == w.relation) & (waits["mode"] == w.mode)]
            rows.append(dict(relation=w.relation or "?", mode=w.mode or "?", relkind=None,
                             spans=spans.iloc[0:0], waits=same))
    return rows


def _bars(ax, starts, ends, y: float, t0: float, **style) -> None:
    """Bars from start to end, never thinner than _MIN_BAR_PX: a 1 ms AccessExclusiveLock stays visible."""
    least = _MIN_BAR_PX / _px_per_second(ax)
    spans = [(s - t0, max(e - s, least)) for s, e in zip(starts, ends)]
    if spans:
        ax.broken_barh(spans, (y - 0.36, 0.72), zorder=3, **style)


def _draw_lock_rows(ax, rows: list[dict], t0: float) -> None:
    for y, row in enumerate(rows):
        colour = lock_colour(row["mode"])
        _bars(ax, row["spans"]["start"], row["spans"]["end"], y, t0, color=colour)
        _bars(ax, row["waits"]["start"], row["waits"]["end"], y, t0, facecolor="white", edgecolor=colour,
              hatch="////", lw=0.8)
    ax.set_yticks(range(len(rows)), [_row_label(r) for r in rows], fontsize=FONT - 1)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.set_ylabel("relation · lock mode\n(statements that took it)", fontsize=FONT)
    if not rows:
        _note(ax, "no table locks of the migration were recorded")
    _lock_legend(ax, any(len(r["waits"]) for r in rows))


def _row_label(row: dict) -> str:
    name = _short_relation(row["relation"]) + (" (index)" if row["relkind"] == "i" else "")
    taken = sorted({int(i) for i in row["spans"]["index"]}) if len(row["spans"]) else []
    by = ", ".join(f"#{i}" for i in taken[:3]) + ("…" if len(taken) > 3 else "")
    return f"{name} · {row['mode']}" + (f" ({by})" if by else "")


def _draw_table_locks(ax, result, tables: pd.DataFrame, relations: list[str]) -> None:
    """Overview: one row per table; where several modes overlap the strongest is drawn on top."""
    waits = _own_waits(result)
    for y, relation in enumerate(relations):
        mine = tables[tables["relation"] == relation].assign(rank=lambda d: d["mode"].map(_rank))
        for mode, part in mine.sort_values("rank").groupby("mode", sort=False):
            _bars(ax, part["start"], part["end"], y, result.t0, color=lock_colour(mode))
        if len(mine):
            _name_bar(ax, mine.sort_values(["rank", "hold_ms"]).iloc[-1], y, result.t0)
        for mode, part in waits[waits["relation"] == relation].groupby("mode"):
            _bars(ax, part["start"], part["end"], y, result.t0, facecolor="white",
                  edgecolor=lock_colour(mode), hatch="////", lw=0.8)
    ax.set_yticks(range(len(relations)), [_short_relation(r) for r in relations], fontsize=FONT - 1)
    ax.set_ylim(max(len(relations), 1) - 0.5, -0.5)
    ax.set_ylabel("table locks of\nthe migration", fontsize=FONT)
    if not relations:
        _note(ax, "no table locks of the migration were recorded")
    _lock_legend(ax, bool(len(waits)))


def _name_bar(ax, span, y: float, t0: float) -> None:
    """The mode's name inside the strongest lock's bar, when it fits."""
    text = f"{span['mode']} (#{int(span['index'])})"
    width_px = (span["end"] - span["start"]) * _px_per_second(ax)
    if width_px > 7 * len(text):
        dark = lock_colour(span["mode"]) == BLOCKS_NEITHER
        ax.text((span["start"] + span["end"]) / 2 - t0, y, text, ha="center", va="center", fontsize=FONT - 1,
                color="0.1" if dark else "white", zorder=4, clip_on=True)


def _lock_legend(ax, waited: bool) -> None:
    handles = [Patch(color=c, label=text) for c, text in LOCK_CLASSES.items()]
    if waited:
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="////", label=WAITING))
    _legend(ax, handles=handles, title="lock colour = what it\nblocks for the app:")


def _draw_blocked(ax, result) -> None:
    """Application backends waiting on the migration at each sampler tick, directly or queued behind it."""
    blocked = analysis.blocking(result)
    ax.set_ylabel("app backends\nblocked (count)", fontsize=FONT)
    ax.yaxis.get_major_locator().set_params(integer=True)
    if blocked.empty:
        ax.set_ylim(0, 1)
        _note(ax, "no application backend was blocked by the migration")
        return
    ticks = np.sort(result.activity["t"].unique())
    counts = (blocked.groupby(["t", "via"]).size().unstack(fill_value=0)
              .reindex(index=ticks, columns=["direct", "queue"], fill_value=0))
    x, direct, queue = ticks - result.t0, counts["direct"].to_numpy(), counts["queue"].to_numpy()
    ax.fill_between(x, 0, direct, step="post", color="tab:red", alpha=0.55, lw=0,
                    label="waiting on a lock the migration holds")
    ax.fill_between(x, direct, direct + queue, step="post", color="tab:orange", alpha=0.55, lw=0,
                    label="queued behind the migration's lock request")
    ax.set_ylim(0, max(1, (direct + queue).max()) * 1.15)
    _legend(ax)


# -- latency and throughput ----------------------------------------------------------------------------

def _draw_latency(ax, result) -> None:
    work, width = result.workload, _bin_width(result)
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms, log scale)\nfrom intended start", fontsize=FONT)
    if work.empty:
        _note(ax, "no application transactions recorded")
        return
    x, y, ok = work["intended_start"] - result.t0, work["latency_ms"].clip(lower=0.01), work["ok"].astype(bool)
    ax.scatter(x[ok], y[ok], s=4, color="tab:blue", alpha=0.3, lw=0, label="transaction (ok)", zorder=2,
               rasterized=True)
    if (~ok).any():
        ax.scatter(x[~ok], y[~ok], s=22, color="tab:red", marker="x", lw=1.0, label="transaction (error)",
                   zorder=4)
    _steps(ax, *_per_bin(x, y, width, lambda g: g.quantile(0.99)), width, color="black", lw=1.6,
           label=f"p99 {_per(width)}", zorder=4)
    _log_decades(ax, y)
    _legend(ax, markerscale=2.5)


def _draw_throughput(ax, result) -> None:
    work, width = result.workload, _bin_width(result)
    ax.set_ylabel("transactions/s", fontsize=FONT)
    if work.empty:
        _note(ax, "no application transactions recorded")
        return
    done, ok = work["end"] - result.t0, work["ok"].astype(bool)
    span = (work["intended_start"].min() - result.t0, done.max())
    rate = result.manifest.get("config", {}).get("rate")
    if rate:
        ax.axhline(rate, color="0.4", lw=0.9, ls=":", label=f"target rate ({rate:g} tx/s)")
    _steps(ax, *_rate_per_bin(done[ok], span, width), width, color="tab:blue", lw=1.4, label="completed tx/s")
    starts, errors = _rate_per_bin(done[~ok], span, width)
    ax.bar(starts, errors, width=width * 0.9, align="edge", color="tab:red", alpha=0.8, label="errors/s",
           zorder=3)
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


# -- load ---------------------------------------------------------------------------------------------

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
    ax.fill_between(np.append(starts, starts[-1] + width) if len(starts) else starts,
                    0, np.append(rate, rate[-1]) / 1e6 if len(rate) else rate, step="post",
                    color="tab:purple", alpha=0.15, lw=0)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("WAL (MB/s)", fontsize=FONT)


def _draw_tuples(ax, result) -> None:
    # pg_stat_database moves in steps at most once a second (and after each transaction): whole seconds.
    width = max(1.0, _bin_width(result))
    for col, colour in (("tup_inserted", "tab:green"), ("tup_updated", "tab:orange"), ("tup_deleted", "tab:red")):
        if _has_load(result, (col,)):
            _steps(ax, *_counter_rate(result.load, col, width, result.t0), width, color=colour, lw=1.3,
                   label=col.removeprefix("tup_"))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("tuples written\n(rows/s)", fontsize=FONT)
    _legend(ax, title=f"pg_stat_database, {width:g} s\nbins (lags up to ~1 s)")


def _draw_blocks(ax, result) -> None:
    width, shown = max(1.0, _bin_width(result)), []
    for col, colour, label in (("blks_hit", "tab:blue", "found in shared buffers"),
                               ("blks_read", "tab:brown", "read from disk or OS cache")):
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
    return len(load) > 1 and any(c in load and pd.to_numeric(load[c], errors="coerce").notna().sum() > 1
                                 for c in columns)


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


# -- comparison ---------------------------------------------------------------------------------------

def _p99_series(result, width):
    work = result.workload
    x = work["intended_start"] - result.manifest["migration_start"]
    return _per_bin(x, work["latency_ms"].clip(lower=0.01), width, lambda g: g.quantile(0.99))


def _throughput_series(result, width):
    work, start = result.workload, result.manifest["migration_start"]
    done = work["end"] - start
    span = (work["intended_start"].min() - start, done.max())
    return _rate_per_bin(done[work["ok"].astype(bool)], span, width)


def _blocked_series(result, width):
    blocked = analysis.blocking(result)
    ticks = np.sort(result.activity["t"].unique())
    counts = blocked.groupby("t").size().reindex(ticks, fill_value=0)
    return ticks - result.manifest["migration_start"], counts.to_numpy()


_COMPARE_METRICS = {  # metric: (what the figure shows, y label, series(result, bin width) -> (x, y))
    "latency": ("application p99 latency", "p99 latency\n(ms, log scale)", _p99_series),
    "throughput": ("completed application transactions", "completed tx/s", _throughput_series),
    "blocked": ("application backends blocked by the migration", "app backends\nblocked (count)",
                _blocked_series),
}


def _compare_series(sub, results: dict, ylabel: str, series, log: bool) -> None:
    axes = np.atleast_1d(sub.subplots(len(results), 1, sharex=True, sharey=True))
    extents = [_extent(r, r.manifest["migration_start"]) for r in results.values()]
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
        _mark_statements(ax, r, origin=r.manifest["migration_start"])
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


# -- shared bits ----------------------------------------------------------------------------------------

def _figure(result, what: str, height: float):
    fig = plt.figure(figsize=(12, height), layout="constrained")
    plt.close(fig)  # returned, not kept by pyplot: shown once in a notebook, never leaked
    fig.suptitle(f"{_migration_name(result)}: {what}", fontsize=FONT + 3)
    return fig


def _migration_name(result) -> str:
    """The migration's name, with its folder when the name alone is a variant ("risky", "safer")."""
    name = str(result.manifest.get("migration") or result.run_id)
    sources = result.manifest.get("sources") or []
    if sources:
        folder = Path(sources[0]).parent
        if folder.name == name and folder.parent.name:
            return f"{folder.parent.name}/{name}"
    return name


def _short_relation(relation) -> str:
    return relation.removeprefix("public.") if isinstance(relation, str) else "?"


def _rank(mode) -> int:
    return lockmodes.MODES.index(mode) + 1 if mode in lockmodes.MODES else 0


def _legend(ax, **kw) -> None:
    """Outside the plot on the right, so it hides neither data nor statement labels; long labels wrapped."""
    handles = kw.pop("handles", None)
    if handles is None:
        handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, [textwrap.fill(h.get_label(), 27) for h in handles], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize=FONT - 1, title_fontsize=FONT - 1,
                  frameon=False, alignment="left", **kw)


def _log_decades(ax, values) -> None:
    """Whole decades, at least two, labelled as plain numbers (1, 10, 100), not 6×10⁰."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return
    lo, hi = np.floor(np.log10(values.min())), np.ceil(np.log10(values.max()))
    ax.set_ylim(10 ** lo, 10 ** max(hi, lo + 2))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=FONT, color="0.4")
