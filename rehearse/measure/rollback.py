"""The tested-rollback check: up, then down, on a quiet copy; is the baseline schema and data back?

Run without traffic so that every difference is the migration's doing, not the application's writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import dbserver
from rehearse.measure import state
from rehearse.measure.executor import MigrationExecutor


@dataclass
class RollbackReport:
    tested: bool  # False when the migration has no down script
    restored: bool = False  # schema identical and no baseline row lost
    schema_diff: list[str] = field(default_factory=list)
    rows_lost: int = 0
    rows_lost_by_table: dict[str, int] = field(default_factory=dict)
    up_error: dict | None = None  # {statement, sqlstate, message} when up failed (down then recovers)
    down_error: dict | None = None
    leftovers: list[str] = field(default_factory=list)  # after up: INVALID indexes, NOT VALID constraints
    reapplied: bool | None = None  # up ran again cleanly after the round trip

    def to_dict(self) -> dict:
        return asdict(self)


def verify_rollback(
    server,
    template: str,
    migration,
    reapply: bool = True,
    lock_timeout_ms: int | None = None,
    roles=None,
    warm_spare: bool = False,
) -> RollbackReport:
    """Up, down (and up again) on a fresh clone of `template` (its warm spare, with `warm_spare`, when one is
    ready), compared with the clone's baseline; the migration runs as `roles.migration` (dbserver.Roles) when
    given, as in the rehearsal itself."""
    if migration.down is None:
        return RollbackReport(tested=False)
    with (
        dbserver.clone_for(server, roles, template, warm_spare=warm_spare) as scratch,
        server.connect(scratch) as conn,
    ):
        baseline = state.schema(conn)
        hashed = state.fingerprint(conn)
        report = RollbackReport(tested=True)
        login = roles.migration if roles else None
        report.up_error = _apply(server, scratch, migration, lock_timeout_ms, login)
        report.leftovers = state.leftovers(baseline, state.schema(conn))
        report.down_error = _apply(server, scratch, migration.down, lock_timeout_ms, login)
        report.schema_diff = state.schema_diff(baseline, state.schema(conn))
        report.rows_lost_by_table = state.rows_lost(conn, hashed)
        report.rows_lost = sum(report.rows_lost_by_table.values())
        report.restored = not report.down_error and not report.schema_diff and not report.rows_lost
        if reapply and report.restored and not report.up_error:
            report.reapplied = _apply(server, scratch, migration, lock_timeout_ms, login) is None
        return report


def _apply(server, scratch: str, migration, lock_timeout_ms: int | None, login=None) -> dict | None:
    """Run a migration; the first failure as {statement, sqlstate, message}, or None."""
    executor = MigrationExecutor(server, scratch, lock_timeout_ms=lock_timeout_ms, login=login)
    try:
        records = executor.run(migration)
    finally:
        executor.close()
    failed = next((r for r in records if r.status == "failed"), None)
    return None if failed is None else dict(statement=failed.index, sqlstate=failed.sqlstate, message=failed.error)


def verify_release_rollback(
    server, template: str, migrations, lock_timeout_ms: int | None = None, roles=None, warm_spare: bool = False
) -> list:
    """A release's rollbacks on a quiet copy: every up in deploy order, then every down in reverse order,
    each compared with the state just before its own up; run as `roles.migration` when given. A migration
    without a down script stops the walk back, as it would in production: it and the migrations before it
    are reported untested."""
    reports = [RollbackReport(tested=False) for _ in migrations]
    login = roles.migration if roles else None
    with (
        dbserver.clone_for(server, roles, template, warm_spare=warm_spare) as scratch,
        server.connect(scratch) as conn,
    ):
        before, ups = [], []
        for migration in migrations:
            before.append((state.schema(conn), state.fingerprint(conn, tag=f"_{len(before)}"), f"_{len(before)}"))
            ups.append(_apply(server, scratch, migration, lock_timeout_ms, login))
            if ups[-1]:
                break  # production stops at a failed migration: the ones after it never ran
        for i in reversed(range(len(ups))):
            if migrations[i].down is None:
                break
            reports[i] = _walk_back(server, scratch, conn, migrations[i], before[i], (lock_timeout_ms, login))
            reports[i].up_error = ups[i]
    return reports


def _walk_back(server, scratch: str, conn, migration, before: tuple, how: tuple) -> RollbackReport:
    """One migration's down after the ups of the release so far, against the state before its up;
    `how`: (lock_timeout_ms, login)."""
    baseline, hashed, tag = before
    report = RollbackReport(tested=True)
    report.leftovers = state.leftovers(baseline, state.schema(conn))
    report.down_error = _apply(server, scratch, migration.down, *how)
    report.schema_diff = state.schema_diff(baseline, state.schema(conn))
    report.rows_lost_by_table = state.rows_lost(conn, hashed, tag)
    report.rows_lost = sum(report.rows_lost_by_table.values())
    report.restored = not report.down_error and not report.schema_diff and not report.rows_lost
    return report
