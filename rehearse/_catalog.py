"""Catalogue snapshots the executor takes around each migration statement, on the migration's own connection."""
from __future__ import annotations

import psycopg

# Relations are compared by schema-qualified NAME: ALTER COLUMN TYPE can give an index a new OID while
# keeping its storage (no rebuild), so only a changed file node for the same name means a rewrite.
RELATIONS = """
SELECT n.nspname || '.' || c.relname, c.relkind, pg_relation_filenode(c.oid),
       pg_total_relation_size(c.oid), c.reltuples::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'i', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%'
"""

# Inside a transaction the pg_stat_xact_* views hold this backend's not-yet-flushed counters. Parallel
# workers (an index build's, a scan's) publish theirs to the cumulative view when they finish, so the
# sequential reads of other backends are added from it — the application itself only reads by index.
TABLE_COUNTERS = """
SELECT a.schemaname || '.' || a.relname, a.seq_tup_read + coalesce(x.seq_tup_read, 0),
       coalesce(x.idx_tup_fetch, a.idx_tup_fetch, 0),
       coalesce(x.n_tup_upd + x.n_tup_del, a.n_tup_upd + a.n_tup_del)
FROM pg_stat_user_tables a
LEFT JOIN pg_stat_xact_user_tables x ON x.relid = a.relid AND %(in_transaction)s
"""

OWN_LOCKS = """
SELECT n.nspname || '.' || c.relname, c.relkind, l.mode
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


def relations(conn: psycopg.Connection) -> dict[str, tuple]:
    """name -> (relkind, filenode, total bytes, estimated rows)."""
    return {row[0]: row[1:] for row in conn.execute(RELATIONS).fetchall()}


def table_counters(conn: psycopg.Connection, in_transaction: bool) -> dict[str, tuple[int, int, int]]:
    """name -> (tuples read by seq scans, tuples fetched by index scans, tuples updated or deleted)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction keeps re-reading its first snapshot
    rows = conn.execute(TABLE_COUNTERS, {"in_transaction": in_transaction})
    return {row[0]: tuple(int(v or 0) for v in row[1:]) for row in rows}


def own_locks(conn: psycopg.Connection) -> set[tuple[str, str, str]]:
    """(relation, relkind, mode) held by this connection's transaction, catalogue relations left out."""
    return {tuple(row) for row in conn.execute(OWN_LOCKS).fetchall()}


def wal_lsn(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]


def wal_bytes_between(conn: psycopg.Connection, start: str, end: str) -> int:
    return int(conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (end, start)).fetchone()[0])


def force_stats_flush(conn: psycopg.Connection, version_num: int) -> None:
    """Make this backend publish its counters at its next transaction end (PostgreSQL 15+)."""
    if version_num >= 150000:
        conn.execute("SELECT pg_stat_force_next_flush()")
