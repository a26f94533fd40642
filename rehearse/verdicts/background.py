"""The application's own error background: SQLSTATEs it already failed with before the migration started,
at a share of its transactions at least half the share during and after it (a replayed INSERT's sampled
unique value colliding, 23505). Those failures are not something the migration did to the application.
Also which side of a deadlock the rehearsal shows aborted, and why production may differ."""

from __future__ import annotations

# The migration's session checks its waits for deadlocks after 1 ms (rehearse.measure.lock_log), so the
# victim a rehearsal shows may not be the one production would pick.
DEADLOCK_VICTIM = (
    " (the deadlock is real; its victim may differ in production: on a server the tool started, the"
    " migration's lock waits are checked for deadlocks after 1 ms to time them exactly, while production"
    " checks every backend after deadlock_timeout, 1 s by default, and aborts the one that began waiting first)"
)


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
