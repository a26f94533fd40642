"""Where the measurement has the last word: scans under blocking locks, and static suspicions it disproved.

A static rule reads the SQL and suspects; the rehearsal ran the statement on the dataset and saw what
PostgreSQL did. SET NOT NULL on a column that a valid CHECK (col IS NOT NULL) already covers skips the scan
(PostgreSQL 12+), though the parse tree cannot know the CHECK exists; an ALTER TYPE the catalogue can
do in place rewrites nothing. Where the rehearsal measured the opposite of the suspicion, the suspicion
does not stand and the reason says so.
"""

from __future__ import annotations

from rehearse.sql import locks as lockmodes
from rehearse.verdicts.base import Hit

# Static findings that predict something the executor measures exactly, and the summary field that says
# whether it happened.
PREDICTS = {
    "R005-not-null-scan": ("scanned", "full scan"),
    "R017-primary-key-not-null-scan": ("scanned", "full scan"),
    "R001-table-rewrite": ("rewrote", "rewrite"),
}
# Findings that already name a scan or a rewrite: R013 adds nothing where one of them fired.
COVERS_SCANS = ("R001", "R003", "R004", "R005", "R006")


def scan_under_lock(ctx, s: dict) -> list[Hit]:
    """R013: a measured full scan or rewrite of a table held under a lock that blocks reads or writes."""
    if s.get("status") != "ok":
        return []
    blocking = {
        lock["relation"]: lock["mode"]
        for lock in s.get("locks", [])
        if not lock.get("own") and lockmodes.blocks_writes(lock["mode"])
    }
    tables = [
        t for t in dict.fromkeys([*(s.get("rewritten") or []), *(s.get("scanned_tables") or [])]) if t in blocking
    ]
    if not tables:
        return []
    table, th = tables[0], ctx.thresholds
    mode, hold = blocking[table], s.get("lock_hold_ms") or 0.0
    level = "red" if th.level(hold, th.amber_hold_ms, th.red_hold_ms) == "red" else "amber"
    did = "rewrote" if table in (s.get("rewritten") or []) else "read every row of"
    felt = "reads and writes wait" if lockmodes.blocks_reads(mode) else "writes wait"
    reason = f"{did} {table} under {mode} ({felt}) for {_ms(hold)}: the scan grows with the table, and the lock with it"
    return [Hit("R013-scan-under-lock", level, reason, s["index"], detail=dict(relation=table, mode=mode))]


def hits(ctx) -> list[Hit]:
    return [h for s in ctx.data.get("statements", []) for h in scan_under_lock(ctx, s)]


def reconcile(static: list[Hit], data: dict, dynamic: list[Hit]) -> tuple[list[Hit], list[Hit]]:
    """(static, dynamic): static hits the measurement disproved become green notes; R013 is dropped where
    another finding already names the scan."""
    measured = {s["index"]: s for s in data.get("statements", [])}
    static = [_overruled(h, measured.get(h.index)) or h for h in static]
    named = {h.index for h in [*static, *dynamic] if h.level != "green" and h.finding_id.startswith(COVERS_SCANS)}
    return static, [h for h in dynamic if not (h.finding_id.startswith("R013") and h.index in named)]


def _overruled(hit: Hit, s: dict | None) -> Hit | None:
    predicted = PREDICTS.get(hit.finding_id)
    if not predicted or hit.source != "static" or not s or s.get("status") != "ok":
        return None
    field, what = predicted
    if s.get(field) is not False:
        return None
    table = hit.detail.get("table", "the table")
    reason = (
        f"the parse tree suggested a {what} of {table}, but the rehearsal measured none: "
        "the measurement wins (e.g. a valid CHECK (col IS NOT NULL) already proves the column)"
    )
    return Hit(hit.finding_id, "green", reason, hit.index, "rehearsal", dict(hit.detail, overruled=True))


def _ms(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
