"""Verdict rules on the rehearsal's numbers (the JSON summary): locks held, users blocked, errors, latency."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from common.text import human_ms
from rehearse.sql import locks as lockmodes
from rehearse.verdicts import projected
from rehearse.verdicts.background import DEADLOCK_VICTIM, background_states
from rehearse.verdicts.base import Hit, Thresholds
from rehearse.verdicts.rules_static import holds_access_exclusive

# SQLSTATEs of an application that no longer fits the schema: undefined column / table, datatype
# mismatch, undefined function (an operator between the old and the new type).
INCOMPATIBLE = {"42703", "42P01", "42804", "42883"}
AFTER_START = ("during", "after")


@dataclass
class Context:
    data: dict  # the JSON summary
    thresholds: Thresholds
    statements: dict = field(default_factory=dict)  # index -> migration Statement (empty without one)
    static: dict = field(default_factory=dict)  # index -> static hits
    projection: dict = field(default_factory=dict)  # index -> {rows, duration_ms, low_ms, high_ms, model}
    table_rows: dict = field(default_factory=dict)  # bare table name -> rows in the dataset


def hits(ctx: Context) -> list[Hit]:
    """Every dynamic finding: per statement in order, then the run's."""
    found = [h for s in ctx.data.get("statements", []) for rule in STATEMENT_RULES for h in rule(ctx, s)]
    return found + [h for rule in RUN_RULES for h in rule(ctx)]


def duration(ms: float | None) -> str:
    """192 ms, 2.2 s, 3.1 min (common.text.human_ms), or 'an unknown time'."""
    return "an unknown time" if ms is None else human_ms(ms)


def condition(sqlstate: str | None) -> str:
    """'23503 (foreign_key_violation)': PostgreSQL's condition name, from psycopg's class for the SQLSTATE."""
    import psycopg.errors

    if sqlstate is None:  # the client's own failure (a value it could not send): the server never saw it
        return "no SQLSTATE (client-side)"
    try:
        words = re.sub(r"(?<!^)(?=[A-Z])", "_", psycopg.errors.lookup(sqlstate).__name__).lower()
    except (KeyError, TypeError):
        return str(sqlstate)
    return f"{sqlstate} ({words})"


def _hold(ctx: Context, s: dict) -> list[Hit]:
    mode, th = s.get("strongest_lock"), ctx.thresholds
    if not mode or not lockmodes.blocks_writes(mode):
        return []
    measured, at_size = s.get("lock_hold_ms") or 0.0, projected.hold(ctx, s)
    level = th.level(max(measured, at_size[0] if at_size else 0.0), th.amber_hold_ms, th.red_hold_ms)
    if level == "green":
        return []
    relation = _relation(ctx, s, mode)
    table = relation.removeprefix("public.")
    felt = (
        f"every read and write of {table} waits"
        if lockmodes.blocks_reads(mode)
        else f"every write to {table} waits (reads go on)"
    )
    fid = "R002-access-exclusive-held" if lockmodes.blocks_reads(mode) else "R011-writes-blocked"
    return [
        Hit(
            fid,
            level,
            f"holds {mode} on {relation} for {duration(measured)}{projected.quoted(at_size)}: {felt}",
            s["index"],
            detail=dict(mode=mode, relation=relation, hold_ms=measured, projected_ms=at_size and at_size[0]),
        )
    ]


def _relation(ctx: Context, s: dict, mode: str) -> str:
    """The relation locked in `mode`, preferring the statement's own target over an index of it."""
    held = [lock["relation"] for lock in s.get("locks", []) if lock["mode"] == mode]
    st = ctx.statements.get(s["index"])
    expected = {lock.relation for lock in st.expected_locks} if st else set()
    return next((r for r in held if r in expected), held[0] if held else "its table")


def _rewrite(ctx: Context, s: dict) -> list[Hit]:
    if not s.get("rewrote"):
        return []
    rewritten = s.get("rewritten") or []
    shown = ", ".join(rewritten[:3]) + (f" and {len(rewritten) - 3} more" if len(rewritten) > 3 else "")
    p = ctx.projection.get(s["index"])
    at_size = (p["duration_ms"], p["low_ms"], p["high_ms"], p.get("model"), projected.size(p)) if p else None
    return [
        Hit(
            "R001-table-rewrite",
            "amber",
            f"rewrote {shown} in {duration(s.get('duration_ms'))}{projected.quoted(at_size)}: the copy grows with the table",
            s["index"],
        )
    ]


def _blocked(ctx: Context, s: dict) -> list[Hit]:
    """R010, counted as users feel it: every transaction whose latency the statement's locks raised."""
    th, delayed = ctx.thresholds, s.get("delayed_app_tx")
    worst = max(s.get("blocked_app_ms_max") or 0.0, s.get("delayed_app_ms_max") or 0.0)
    level = th.level(worst, th.amber_blocked_ms, th.red_blocked_ms)
    if level == "green":
        return []
    waited = f"{s['blocked_app_tx']} backend{'s' if s['blocked_app_tx'] != 1 else ''} seen waiting in the server"
    if delayed is None:  # a summary written before delays were counted
        many = "s" if s["blocked_app_tx"] != 1 else ""
        reason = f"made {s['blocked_app_tx']} application transaction{many} wait, the longest {duration(worst)}"
    else:
        reason = (
            f"delayed {delayed:,} application transaction{'s' if delayed != 1 else ''} by up to {duration(worst)} "
            f"(p50 {duration(s.get('delayed_app_ms_p50'))}, p99 {duration(s.get('delayed_app_ms_p99'))}; {waited})"
        )
    return [Hit("R010-app-blocked", level, reason, s["index"], detail=dict(blocked_ms=worst, transactions=delayed))]


def _failed(ctx: Context, s: dict) -> list[Hit]:
    if s.get("status") != "failed":
        return []
    error = s.get("error") or {}
    return [
        Hit(
            "R009-migration-failed",
            ctx.thresholds.migration_failed,
            f"failed with {condition(error.get('sqlstate'))}: {error.get('message')}"
            + (DEADLOCK_VICTIM if error.get("sqlstate") == "40P01" else ""),
            s["index"],
            detail=dict(sqlstate=error.get("sqlstate")),
        )
    ]


def _backfill(ctx: Context, s: dict) -> list[Hit]:
    static = next((h for h in ctx.static.get(s["index"], []) if h.finding_id.startswith("R006")), None)
    table = static.detail["table"] if static else _dml_target(ctx, s)
    rows = None if s.get("rows") is None else int(s["rows"])
    if table is None or rows is None or s.get("status") != "ok":
        return []
    size = ctx.table_rows.get(table.removeprefix("public."))
    big = rows >= (ctx.thresholds.amber_backfill_share * size if size else ctx.thresholds.amber_backfill_rows)
    st = ctx.statements.get(s["index"])
    holder = holds_access_exclusive(list(ctx.statements.values()), st, table) if st else None
    if not (big or holder):
        return []
    measured, at_size, th = s.get("duration_ms") or 0.0, projected.hold(ctx, s), ctx.thresholds
    took = max(measured, at_size[0] if at_size else 0.0)
    # Under an AccessExclusiveLock the backfill's time is everyone's wait: judge it like a lock hold.
    level = th.level(took, th.amber_hold_ms, th.red_hold_ms) if holder else "green"
    if level == "green" and not big:
        return []
    share = f" ({rows / size:.0%} of {table})" if size else f" of {table}"
    reason = f"changed {rows:,} rows{share} in one transaction in {duration(measured)}{projected.quoted(at_size)}"
    if holder:
        reason += f", all the while statement {holder.index} held AccessExclusiveLock on {table}"
    return [
        Hit(
            "R006-single-transaction-backfill",
            "amber" if level == "green" else level,
            reason,
            s["index"],
            detail=dict(rows=rows, table=table),
        )
    ]


def _dml_target(ctx: Context, s: dict) -> str | None:
    """The table an UPDATE or DELETE writes: its RowExclusiveLock in the locks the parser expected when the
    migration was read (the result carries them; no SQL is parsed again)."""
    st = ctx.statements.get(s["index"])
    if s.get("kind") not in ("UPDATE", "DELETE") or st is None:
        return None
    return next((lock.relation for lock in st.expected_locks if lock.mode == "RowExclusiveLock"), None)


def _app_errors(ctx: Context) -> list[Hit]:
    errors = [e for e in ctx.data.get("errors") or [] if e.get("phase") in AFTER_START]
    incompatible = [e for e in errors if e.get("sqlstate") in INCOMPATIBLE]
    background = background_states(ctx.data, AFTER_START)
    other = [e for e in errors if e.get("sqlstate") not in INCOMPATIBLE and e.get("sqlstate") not in background]
    culprits = [i for i, hs in ctx.static.items() if any(h.finding_id.startswith("R007") for h in hs)]
    out = []
    if incompatible:
        level, words = _error_words(ctx, incompatible)
        out += [Hit("R007-app-incompatible", level, f"broke the running application: {words}", i) for i in culprits]
        out += [] if culprits else [Hit("R007-app-incompatible", level, words)]
    return out + ([Hit("R010-app-blocked", *_error_words(ctx, other))] if other else [])


def _error_words(ctx: Context, errors: list[dict]) -> tuple[str, str]:
    count = sum(e["count"] for e in errors)
    by_code: dict[str, int] = {}
    for e in errors:
        by_code[e.get("sqlstate")] = by_code.get(e.get("sqlstate"), 0) + e["count"]
    codes = ", ".join(f"{condition(c)} ×{n}" for c, n in sorted(by_code.items(), key=lambda kv: -kv[1]))
    example = max(errors, key=lambda e: e["count"]).get("example")
    level = "red" if count >= ctx.thresholds.red_app_errors else "amber"
    many = "s" if count != 1 else ""
    return level, (
        f"{count:,} application transaction{many} failed during or after the migration with {codes}, e.g. {example!r}"
    )


def _latency(ctx: Context) -> list[Hit]:
    workload, th = ctx.data.get("workload") or {}, ctx.thresholds
    before, during = (workload.get(p, {}).get("p99_ms") for p in ("before", "during"))
    if before is None or during is None:
        return []
    ratio = during / max(before, th.p99_floor_ms)
    level = th.level(ratio, th.amber_p99_ratio, th.red_p99_ratio)
    if level == "green":
        return []
    times = f" ({during / before:.1f}×)" if before else ""
    reason = f"p99 latency during the migration was {during:,.0f} ms vs {before:,.0f} ms before{times}"
    # Blame the statement users queued behind longest; with no queue (CPU or I/O contention) the run as a whole.
    blamer = max(ctx.data.get("statements", []), key=lambda s: s.get("blocked_app_ms_total") or 0, default=None)
    if blamer and blamer.get("blocked_app_ms_total"):
        return [
            Hit(
                "R012-latency-degraded",
                level,
                f"queued the application: {reason}",
                blamer["index"],
                detail=dict(ratio=ratio),
            )
        ]
    return [Hit("R012-latency-degraded", level, reason, detail=dict(ratio=ratio))]


# Below this share of the asked rate outside the migration, the application did not produce the traffic
# the verdict assumes (a machine too small or a --rate past what it can send): the numbers understate impact.
RATE_SHORTFALL = 0.5


def _short_of_rate(ctx: Context) -> list[Hit]:
    target, workload = ctx.data.get("target_rate"), ctx.data.get("workload") or {}
    achieved = [workload.get(p, {}).get("tx_per_s") for p in ("before", "after")]
    achieved = [a for a in achieved if a is not None]
    if not target or not achieved or max(achieved) >= RATE_SHORTFALL * target:
        return []
    reason = (
        f"the application reached only {max(achieved):,.0f} tx/s of the {target:,.0f} asked outside the migration, "
        "so the rehearsal understates the load; lower --rate or rehearse on a larger machine"
    )
    return [Hit("W001-workload-short-of-rate", "amber", reason)]


STATEMENT_RULES = (_failed, _hold, _rewrite, _backfill, _blocked)
RUN_RULES = (_app_errors, _latency, _short_of_rate)
