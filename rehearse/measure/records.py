"""What the executor records per statement, and the records it starts from (one per statement, not run)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rehearse.sql.secrets import mask


@dataclass
class StatementRecord:
    """What one statement did: timing, outcome, the locks it newly holds, rewrites, scans, WAL."""

    index: int
    sql: str
    phase: str  # up | down
    kind: str
    transaction: int
    source: str
    line: int
    status: str = "not_run"  # ok | failed | skipped (its transaction failed) | not_run
    start: float | None = None
    end: float | None = None
    tx_end: float | None = None  # when the locks it took were released (commit, rollback, or its own end)
    tx_outcome: str | None = None  # commit | rollback
    rows: int | None = None
    sqlstate: str | None = None
    error: str | None = None
    locks: list[dict] = field(default_factory=list)  # [{relation, relkind, mode, own, renamed_to}] newly held
    created: list[str] = field(default_factory=list)  # relations it created (no other session can see them)
    renamed_from: list[str] = field(default_factory=list)  # names relations had before it renamed them …
    renamed_to: list[str] = field(default_factory=list)  # … and the names they have after it
    rewritten: list[str] = field(default_factory=list)  # relations whose file node changed
    scanned: list[str] = field(default_factory=list)  # tables read (nearly) in full
    size_delta_bytes: int = 0
    dead_tuples: int = 0
    wal_bytes: int = 0
    attempts: int = 1  # > 1 when lock timeouts were retried (start is the first attempt's)
    final_start: float | None = None  # start of the last attempt: its locks are held from there
    ran_as: str | None = None  # the role it ran as; 'superuser <name>' on the untrusted-extension path
    # Its lock waits as the server logged them (rehearse.measure.lock_log; None where the log was not read
    # and the sampler's estimate stands): all of them, and those for relation locks (its table locks' grant).
    lock_wait_logged_ms: float | None = None
    relation_wait_logged_ms: float | None = None


def reset(rec: StatementRecord) -> None:
    """Back to not-run, keeping what identifies the statement."""
    fresh = StatementRecord(
        index=rec.index,
        sql=rec.sql,
        phase=rec.phase,
        kind=rec.kind,
        transaction=rec.transaction,
        source=rec.source,
        line=rec.line,
    )
    rec.__dict__.update(fresh.__dict__)


def record_for(stmt, phase: str, offset: int) -> StatementRecord:
    transaction = stmt.transaction + (offset if stmt.transaction else 0)
    return StatementRecord(
        index=stmt.index + offset,
        sql=mask(stmt.sql),  # what is shown and saved; the connection runs stmt.sql
        phase=phase,
        kind=stmt.kind,
        transaction=transaction,
        source=stmt.source,
        line=stmt.line,
    )
