"""The application's own error background: SQLSTATEs it already failed with before the migration started,
at a share of its transactions at least half the share during and after it (a replayed INSERT's sampled
unique value colliding, 23505). Those failures are not something the migration did to the application."""

from __future__ import annotations


def background_states(data: dict, after_phases: tuple[str, ...]) -> set:
    """The SQLSTATEs of the summary `data`'s errors that are background; none when a phase ran no traffic."""
    work, errors = data.get("workload") or {}, data.get("errors") or []
    before_tx = (work.get("before") or {}).get("transactions") or 0
    after_tx = sum((work.get(phase) or {}).get("transactions") or 0 for phase in after_phases)
    if not before_tx or not after_tx:
        return set()
    before: dict = {}
    after: dict = {}
    for e in errors:
        counts = before if e.get("phase") == "before" else after if e.get("phase") in after_phases else {}
        counts[e.get("sqlstate")] = counts.get(e.get("sqlstate"), 0) + e["count"]
    return {code for code, n in after.items() if n / after_tx <= 2 * before.get(code, 0) / before_tx}
