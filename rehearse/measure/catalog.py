"""Catalogue snapshots the executor takes around each migration statement, on the migration's own connection."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

# One round trip per snapshot: inside the migration's transaction every millisecond spent here is a
# millisecond more that its locks are held, so the rehearsal must not inflate what it measures.
#
# Relations are compared by schema-qualified NAME: ALTER COLUMN TYPE can give an index a new OID while
# keeping its storage (no rebuild), so only a changed file node for the same name means a rewrite.
#
# Counters come from the statistics functions behind pg_stat_user_tables (the view costs milliseconds).
# Inside a transaction the pg_stat_get_xact_* functions give this backend's not-yet-flushed counts.
# Parallel workers (an index build's, a scan's) publish theirs to the cumulative counters when they finish,
# so sequential reads by other backends are added from those — the application itself only reads by index.
# Index reads count too: a constraint check can be an index-only scan.
SNAPSHOT = """
WITH mine AS (
    SELECT relation, array_agg(mode) AS modes FROM pg_locks
    WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted GROUP BY relation)
SELECT n.nspname || '.' || c.relname, c.relkind, pg_relation_filenode(c.oid),
       CASE WHEN c.relkind = 'i' THEN 0 ELSE pg_total_relation_size(c.oid) END, c.reltuples::bigint,
       CASE WHEN c.relkind <> 'i' THEN
           pg_stat_get_tuples_returned(c.oid) + {x}pg_stat_get_xact_tuples_returned(c.oid) END,
       CASE WHEN c.relkind <> 'i' THEN
           (SELECT sum({own}tuples_returned(i.indexrelid)) FROM pg_index i WHERE i.indrelid = c.oid) END,
       CASE WHEN c.relkind <> 'i' THEN {own}tuples_updated(c.oid) + {own}tuples_deleted(c.oid) END,
       pg_current_wal_insert_lsn()::text,
       mine.modes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN mine ON mine.relation = c.oid
WHERE c.relkind IN ('r', 'i', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%'
"""


@dataclass(frozen=True)
class Snapshot:
    """Relations, the locks this connection holds on them, table counters and the WAL position."""

    relations: dict[str, tuple]  # name -> (relkind, filenode, total bytes, estimated rows)
    locks: frozenset  # (relation, relkind, mode) this connection holds
    counters: dict[str, tuple]  # table name -> (tuples read sequentially, fetched by index, updated+deleted)
    lsn: str


def snapshot(conn: psycopg.Connection, in_transaction: bool) -> Snapshot:
    # In a transaction: this backend's pending counts (pg_stat_get_xact_*) plus the sequential reads other
    # backends published; outside one: the published counts only (flushed by force_stats_flush).
    own = "pg_stat_get_xact_" if in_transaction else "pg_stat_get_"
    query = SNAPSHOT.format(own=own, x="" if in_transaction else "0 * ")
    cur = conn.execute("SELECT pg_stat_clear_snapshot();" + query)  # before 15: drop the cached snapshot
    cur.nextset()
    relations, counters, locks, lsn = {}, {}, set(), None
    for name, relkind, filenode, size, rows, seq, idx, changed, _lsn, modes in cur.fetchall():
        locks.update((name, relkind, mode) for mode in modes or ())
        relations[name] = (relkind, filenode, int(size), int(rows))  # size: table + its indexes + TOAST
        if relkind != "i":
            counters[name] = (int(seq or 0), int(idx or 0), int(changed or 0))
    return Snapshot(relations, frozenset(locks), counters, lsn or wal_lsn(conn))


def prepare(conn: psycopg.Connection, version_num: int) -> None:
    """Read statistics afresh on every access (15+): a cached snapshot would freeze them per transaction."""
    if version_num >= 150000:
        conn.execute("SET stats_fetch_consistency = 'none'")


def wal_lsn(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]


def wal_bytes_between(conn: psycopg.Connection, start: str, end: str) -> int:
    return int(conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (end, start)).fetchone()[0])


def force_stats_flush(conn: psycopg.Connection, version_num: int) -> None:
    """Make this backend publish its counters at its next transaction end (PostgreSQL 15+)."""
    if version_num >= 150000:
        conn.execute("SELECT pg_stat_force_next_flush()")


def created_and_renamed(rels0: dict, rels1: dict) -> tuple[list[str], list[tuple[str, str]]]:
    """Relations new after a statement, and (old, new) names of those it renamed (same file node, new name)."""
    gone = {info[1]: name for name, info in rels0.items() if name not in rels1 and info[1]}
    created, renamed = [], []
    for name in sorted(set(rels1) - set(rels0)):
        old = gone.get(rels1[name][1])
        if old:
            renamed.append((old, name))
        else:
            created.append(name)
    return created, renamed


def full_scans(rels0: dict, counters0: dict, counters1: dict) -> list[str]:
    """Tables whose tuples read (sequential + by index) during the statement reach half their rows."""
    scanned = []
    for name, (seq1, idx1, _) in counters1.items():
        seq0, idx0, _ = counters0.get(name, (0, 0, 0))
        rows = rels0.get(name, (None, None, None, 0))[3]
        if rows > 0 and (seq1 - seq0) + (idx1 - idx0) >= 0.5 * rows:
            scanned.append(name)
    return sorted(scanned)
