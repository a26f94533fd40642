"""Locks the migration held or waited for, as bars per (relation, mode); application backends it blocked."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from rehearse.analysis import timeline as analysis
from rehearse.present.plots._axes import _executed, _legend, _note, _px_per_second
from rehearse.present.plots._style import BLOCKS_NEITHER, FONT, LOCK_CLASSES, WAITING, lock_colour
from rehearse.sql import locks as lockmodes

_TABLE_KINDS = {"r", "p", "m", "f"}
# The executor's own bookkeeping queries run inside the migration's transaction and hold AccessShareLock
# on catalogue tables and views; the sampler sees them as the migration's. They block nothing: not drawn.
_CATALOG_SCHEMAS = ("pg_catalog.", "information_schema.")
_MIN_BAR_PX = 2.0


def _spans(result) -> pd.DataFrame:
    spans = analysis.lock_spans(result)
    spans = spans[~spans["relation"].astype(str).str.startswith(_CATALOG_SCHEMAS)].copy()
    spans = spans[~spans["own"]] if "own" in spans else spans  # relations the transaction created: unseen
    spans["start"] = pd.to_numeric(spans["start"], errors="coerce")
    spans["end"] = pd.to_numeric(spans["end"], errors="coerce")
    last = result.manifest.migration_end
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
        rows.append(
            dict(
                index=index,
                relation=None if first is None else first["relation"],
                mode=None if first is None else first["mode"],
                start=start,
                end=start + ms / 1000,
            )
        )
    return pd.DataFrame(rows, columns=["index", "relation", "mode", "start", "end"])


def _lock_rows(spans: pd.DataFrame, waits: pd.DataFrame) -> list[dict]:
    """One row per (relation, mode) with its spans and the migration's waits for it."""
    rows = []  # what blocks the application first (red, then orange), then in the order taken
    severity = spans["mode"].map(lambda m: list(LOCK_CLASSES).index(lock_colour(m)))
    order = spans.assign(rank=spans["mode"].map(_rank), severity=severity).sort_values(
        ["severity", "start", "rank"], ascending=[True, True, False]
    )
    for (relation, mode), part in order.groupby(["relation", "mode"], sort=False):
        rows.append(
            dict(
                relation=relation,
                mode=mode,
                relkind=part["relkind"].iloc[0],
                spans=part,
                waits=waits[(waits["relation"] == relation) & (waits["mode"] == mode)],
            )
        )
    placed = {(r["relation"], r["mode"]) for r in rows}
    for w in waits.itertuples():  # waited for and never got (lock_timeout): a row of its own
        if (w.relation, w.mode) not in placed:
            placed.add((w.relation, w.mode))
            same = waits[(waits["relation"] == w.relation) & (waits["mode"] == w.mode)]
            rows.append(
                dict(relation=w.relation or "?", mode=w.mode or "?", relkind=None, spans=spans.iloc[0:0], waits=same)
            )
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
        _bars(
            ax,
            row["waits"]["start"],
            row["waits"]["end"],
            y,
            t0,
            facecolor="white",
            edgecolor=colour,
            hatch="////",
            lw=0.8,
        )
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
            _bars(
                ax,
                part["start"],
                part["end"],
                y,
                result.t0,
                facecolor="white",
                edgecolor=lock_colour(mode),
                hatch="////",
                lw=0.8,
            )
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
        ax.text(
            (span["start"] + span["end"]) / 2 - t0,
            y,
            text,
            ha="center",
            va="center",
            fontsize=FONT - 1,
            color="0.1" if dark else "white",
            zorder=4,
            clip_on=True,
        )


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
    counts = (
        blocked.groupby(["t", "via"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=ticks, columns=["direct", "queue"], fill_value=0)
    )
    x, direct, queue = ticks - result.t0, counts["direct"].to_numpy(), counts["queue"].to_numpy()
    ax.fill_between(
        x, 0, direct, step="post", color="tab:red", alpha=0.55, lw=0, label="waiting on a lock the migration holds"
    )
    ax.fill_between(
        x,
        direct,
        direct + queue,
        step="post",
        color="tab:orange",
        alpha=0.55,
        lw=0,
        label="queued behind the migration's lock request",
    )
    ax.set_ylim(0, max(1, (direct + queue).max()) * 1.15)
    _legend(ax)


def _short_relation(relation) -> str:
    return relation.removeprefix("public.") if isinstance(relation, str) else "?"


def _rank(mode) -> int:
    return lockmodes.rank(mode, unknown=0)
