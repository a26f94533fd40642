"""The findings catalogue: every verdict rule's id, condition, effect, workaround and risky/safer example pair."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One rule the verdict applies. Examples are paths under migrations/, from the project root."""

    id: str
    title: str
    condition: str  # when it fires, in the terms the rules read (parse tree, rehearsal numbers)
    effect: str  # what production feels
    workaround: str  # what to do instead
    safer_form: str  # the safer SQL shape, in a few words (shown next to the statement)
    risky_example: str
    safer_example: str
    evidence: str = "static"  # 'static' (parse tree), 'rehearsal' (summary numbers), or 'both'


_M = "migrations/"
_EX = "migrations/examples/"

CATALOGUE: tuple[Finding, ...] = (
    Finding(
        "R001-table-rewrite",
        "Table rewrite",
        "ALTER COLUMN … TYPE, SET LOGGED/UNLOGGED, SET ACCESS METHOD, ADD COLUMN with a volatile default or a "
        "stored generated column, VACUUM FULL or CLUSTER on an existing table; or the rehearsal saw the table's "
        "file replaced",
        "PostgreSQL writes a new copy of the table and rebuilds every index under AccessExclusiveLock: "
        "reads and writes wait for the whole copy, which grows with the table",
        "add a new column, dual-write it with a trigger, backfill in batches, switch reads, drop the old one",
        "expand/contract: new column + trigger + batched backfill",
        _M + "01_type_change_transaction_id/risky/up.sql",
        _M + "01_type_change_transaction_id/safer/up.sql",
        "both",
    ),
    Finding(
        "R002-access-exclusive-held",
        "AccessExclusiveLock held",
        "a statement takes AccessExclusiveLock on an existing table and its transaction goes on working "
        "(parse tree), or the rehearsal measured the lock held at or above the hold thresholds",
        "every read and write of the table queues until COMMIT; connection pools fill and requests time out",
        "keep the AccessExclusive statement alone in a short transaction with lock_timeout; do slow work outside it",
        "short transaction: the DDL alone, with lock_timeout and retries",
        _M + "04_backfill_single_vs_batched/risky/up.sql",
        _M + "04_backfill_single_vs_batched/safer/up.sql",
        "both",
    ),
    Finding(
        "R003-blocking-index-build",
        "Index built without CONCURRENTLY",
        "CREATE INDEX without CONCURRENTLY on a table the migration did not create",
        "ShareLock for the whole build: every INSERT, UPDATE and DELETE on the table waits",
        "CREATE INDEX CONCURRENTLY, outside a transaction block; on failure drop the INVALID index and retry",
        "CREATE INDEX CONCURRENTLY",
        _EX + "R003-blocking-index-build/risky.sql",
        _EX + "R003-blocking-index-build/safer.sql",
    ),
    Finding(
        "R004-fk-validated-in-place",
        "Foreign key validated in place",
        "ADD CONSTRAINT … FOREIGN KEY without NOT VALID on an existing table",
        "ShareRowExclusiveLock on both tables while every row is checked: writes to both wait, and one "
        "orphan row fails the whole migration (23503)",
        "ADD CONSTRAINT … NOT VALID (instant), then VALIDATE CONSTRAINT in its own transaction "
        "(ShareUpdateExclusiveLock: reads and writes go on)",
        "NOT VALID, then VALIDATE CONSTRAINT",
        _M + "02_foreign_key_on_inconsistent_data/risky/up.sql",
        _M + "02_foreign_key_on_inconsistent_data/safer/up.sql",
    ),
    Finding(
        "R005-not-null-scan",
        "SET NOT NULL scans the table",
        "ALTER COLUMN … SET NOT NULL on an existing table with no validated CHECK (col IS NOT NULL) before it",
        "a full scan under AccessExclusiveLock: reads and writes wait; one NULL fails the migration (23502)",
        "ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL (no scan "
        "since PostgreSQL 12) and drop the CHECK",
        "CHECK … NOT VALID + VALIDATE, then SET NOT NULL",
        _EX + "R005-not-null-scan/risky.sql",
        _EX + "R005-not-null-scan/safer.sql",
    ),
    Finding(
        "R006-single-transaction-backfill",
        "Backfill in one transaction",
        "UPDATE or DELETE without WHERE on an existing table (parse tree), or one statement that changed a large "
        "share of a table (rehearsal); red when the transaction also holds AccessExclusiveLock on it",
        "row locks on every changed row until COMMIT, a burst of WAL and dead tuples, replicas lag; under an "
        "AccessExclusiveLock nobody reads or writes the table for the whole backfill",
        "backfill in keyed batches (WHERE id >= … AND id < …), committing each, with a pause",
        "batched backfill: keyed ranges, COMMIT per batch",
        _M + "04_backfill_single_vs_batched/risky/up.sql",
        _M + "04_backfill_single_vs_batched/safer/up.sql",
        "both",
    ),
    Finding(
        "R007-app-incompatible",
        "Change the running application cannot survive",
        "RENAME or DROP of a column or table, or ALTER COLUMN … TYPE (parse tree); red when the application "
        "failed during or after the migration with 42703, 42P01, 42804 or 42883",
        "every request of the old application version that names the old column, table or type fails",
        "expand/contract: add the new shape beside the old, keep them in step, deploy the application, then "
        "drop the old shape in a later release",
        "expand/contract over two releases",
        _M + "03_incompatible_change_under_traffic/risky/up.sql",
        _M + "03_incompatible_change_under_traffic/safer/up.sql",
        "both",
    ),
    Finding(
        "R008-no-lock-timeout",
        "No lock_timeout before a blocking lock",
        "a statement takes a lock that blocks writes (ShareLock or stronger, e.g. AccessExclusiveLock) on an "
        "existing table while no lock_timeout is set (SET, SET LOCAL or the run's --lock-timeout)",
        "if a long transaction holds the table, the migration waits in the lock queue and every query behind "
        "it waits too: an outage without the migration doing anything",
        "SET lock_timeout = '2s' (or less) first, and retry the migration when it times out",
        "SET lock_timeout, retry on 55P03",
        _M + "03_incompatible_change_under_traffic/risky/up.sql",
        _M + "03_incompatible_change_under_traffic/safer/up.sql",
    ),
    Finding(
        "R009-migration-failed",
        "Migration failed",
        "a statement failed in the rehearsal (its SQLSTATE and message are shown)",
        "the release stops part way; what was left behind depends on the transaction boundaries",
        "fix the data first (preflight + data fix), or split the change so each step can fail safely",
        "preflight check and data fix before the constraint",
        _M + "05_script_fails_halfway/transactional/up.sql",
        _EX + "R009-migration-failed/safer.sql",
        "rehearsal",
    ),
    Finding(
        "R010-app-blocked",
        "Application blocked",
        "application transactions waited on the migration at or above the blocked thresholds, or failed "
        "during or after it (lock or statement timeouts, deadlocks)",
        "users wait, or get errors, for as long as the migration holds what they need",
        "take weaker locks (CONCURRENTLY, NOT VALID + VALIDATE), keep strong ones short, batch the work",
        "weaker locks, shorter transactions",
        _M + "04_backfill_single_vs_batched/risky/up.sql",
        _M + "04_backfill_single_vs_batched/safer/up.sql",
        "rehearsal",
    ),
    Finding(
        "R011-writes-blocked",
        "Writes blocked",
        "the rehearsal measured a lock that blocks writes but not reads (ShareLock, ShareRowExclusiveLock, "
        "ExclusiveLock) held at or above the hold thresholds",
        "every INSERT, UPDATE and DELETE on the table waits; reads go on",
        "use the CONCURRENTLY or NOT VALID + VALIDATE form, which takes ShareUpdateExclusiveLock",
        "CONCURRENTLY / NOT VALID + VALIDATE",
        _M + "02_foreign_key_on_inconsistent_data/risky/up.sql",
        _M + "02_foreign_key_on_inconsistent_data/safer/up.sql",
        "rehearsal",
    ),
    Finding(
        "R012-latency-degraded",
        "Latency degraded",
        "application p99 latency during the migration was at or above the latency ratio thresholds times "
        "its p99 before (a floor keeps tiny baselines from inflating the ratio)",
        "users feel the migration even where nothing failed",
        "smaller batches with pauses, weaker locks, or a quieter hour",
        "smaller batches, pauses between them",
        _M + "04_backfill_single_vs_batched/risky/up.sql",
        _M + "04_backfill_single_vs_batched/safer/up.sql",
        "rehearsal",
    ),
    Finding(
        "R013-scan-under-lock",
        "Full scan or rewrite under a blocking lock",
        "the rehearsal measured a full scan or a rewrite of a table while the statement held a lock on it that "
        "blocks reads or writes, whatever the statement (ADD CONSTRAINT … CHECK / UNIQUE / EXCLUDE, ADD PRIMARY "
        "KEY USING INDEX on a nullable column, …)",
        "the lock lasts as long as the scan, which grows with the table: a few ms here, minutes in production",
        "prove the constraint where reads and writes go on: CHECK … NOT VALID then VALIDATE CONSTRAINT; a unique "
        "or exclusion index built CONCURRENTLY, then ADD CONSTRAINT … USING INDEX; SET NOT NULL after a "
        "validated CHECK (col IS NOT NULL)",
        "NOT VALID + VALIDATE / index CONCURRENTLY + USING INDEX",
        _EX + "R013-scan-under-lock/risky.sql",
        _EX + "R013-scan-under-lock/safer.sql",
        "rehearsal",
    ),
    Finding(
        "R014-unique-built-in-place",
        "Unique index built under AccessExclusiveLock",
        "ALTER TABLE … ADD CONSTRAINT … UNIQUE or PRIMARY KEY (not USING INDEX) on an existing table",
        "the index is built while nobody reads or writes the table; the build grows with the table",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE (or PRIMARY KEY) USING INDEX",
        "unique index CONCURRENTLY, then ADD CONSTRAINT … USING INDEX",
        _EX + "R014-unique-built-in-place/risky.sql",
        _EX + "R014-unique-built-in-place/safer.sql",
    ),
    Finding(
        "R015-exclusion-built-in-place",
        "Exclusion constraint built under AccessExclusiveLock",
        "ALTER TABLE … ADD CONSTRAINT … EXCLUDE on an existing table",
        "its index is built and every row checked while nobody reads or writes the table; there is no "
        "CONCURRENTLY form",
        "with only = operators: a unique index CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING INDEX; "
        "otherwise a quiet window with lock_timeout, its duration rehearsed at production size",
        "= only: unique index CONCURRENTLY + USING INDEX",
        _EX + "R015-exclusion-built-in-place/risky.sql",
        _EX + "R015-exclusion-built-in-place/safer.sql",
    ),
    Finding(
        "R016-check-validated-in-place",
        "CHECK validated under AccessExclusiveLock",
        "ALTER TABLE … ADD CONSTRAINT … CHECK without NOT VALID on an existing table",
        "every row is read while nobody reads or writes the table",
        "ADD CONSTRAINT … CHECK … NOT VALID, then VALIDATE CONSTRAINT (ShareUpdateExclusiveLock)",
        "CHECK … NOT VALID + VALIDATE",
        _EX + "R016-check-validated-in-place/risky.sql",
        _EX + "R016-check-validated-in-place/safer.sql",
    ),
    Finding(
        "R017-primary-key-not-null-scan",
        "PRIMARY KEY USING INDEX scans for NULLs",
        "ALTER TABLE … ADD PRIMARY KEY USING INDEX whose columns the migration did not set NOT NULL first "
        "(overruled when the rehearsal measures no scan: the columns were NOT NULL already)",
        "PostgreSQL sets the columns NOT NULL, reading every row under AccessExclusiveLock when one is nullable",
        "CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL (no scan), then ADD PRIMARY KEY USING INDEX",
        "columns NOT NULL via a validated CHECK first",
        _EX + "R017-primary-key-not-null-scan/risky.sql",
        _EX + "R017-primary-key-not-null-scan/safer.sql",
    ),
)

BY_ID: dict[str, Finding] = {f.id: f for f in CATALOGUE}


def get(finding_id: str) -> Finding:
    """The catalogue entry for an id (KeyError names the known ids)."""
    try:
        return BY_ID[finding_id]
    except KeyError:
        raise KeyError(f"unknown finding {finding_id!r}; known: {', '.join(BY_ID)}") from None
