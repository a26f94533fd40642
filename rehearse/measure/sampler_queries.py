"""The sampler's SQL, one statement per snapshot kind, shaped for the PostgreSQL version at hand.

A snapshot reads pg_locks (and the progress views) only when they can matter (`relevant`): someone in the
database waits on a heavyweight lock, or the watched backend (the migration's, by application_name) is not
idle, or the caller asks for everything (%(full)s, the fixed-rate sampler). Otherwise a tick reads
pg_stat_activity alone: pg_lock_status() takes every lock-manager partition lock and every backend's
fast-path lock, which the application's backends then wait for.
"""

from __future__ import annotations

# Every snapshot comes back as ONE row of arrays (one array per output column), so a tick is one
# round-trip, kept as the server's bytes (sampler_raw) and parsed in binary at the end. array_agg over no
# rows gives NULL, which the caller reads as an empty list.

# Output columns and their pandas dtypes, in the order the SQL returns them ("str": NaN when NULL).
_COUNT = "Int64"  # nullable integer
LOCK_COLUMNS = {
    "pid": "int64",
    "locktype": "str",
    "relation": "str",
    "relkind": "str",
    "mode": "str",
    "granted": "bool",
    "waitstart": "float64",
    "transactionid": _COUNT,
    "virtualxid": "str",
    "vxid": "str",  # the holder's transaction, read with the lock (pg_stat_activity is read apart, a moment on)
}
# What the snapshot returns for them: the relation's oid (NULL when another database's), which the sampler
# names itself (`RelationNames`): the catalogue join cost a fast tick a fifth of its server time.
LOCK_QUERY_COLUMNS = [name for name in LOCK_COLUMNS if name != "relkind"]
LOCK_QUERY_COLUMNS[LOCK_QUERY_COLUMNS.index("relation")] = "relid"
ACTIVITY_COLUMNS = {
    "pid": "int64",
    "application_name": "str",
    "backend_type": "str",
    "state": "str",
    "wait_event_type": "str",
    "wait_event": "str",
    "blocked_by": "object",
    "xact_start": "float64",
    "query_start": "float64",
    "backend_xid": _COUNT,
    "query": "str",
}
PROGRESS_COLUMNS = {
    "pid": "int64",
    "view": "str",
    "command": "str",
    "phase": "str",
    "relation": "str",
    "blocks_total": _COUNT,
    "blocks_done": _COUNT,
    "tuples_total": _COUNT,
    "tuples_done": _COUNT,
}
LOAD_COLUMNS = {
    name: "int64"
    for name in (
        "numbackends",
        "xact_commit",
        "xact_rollback",
        "tup_returned",
        "tup_fetched",
        "tup_inserted",
        "tup_updated",
        "tup_deleted",
        "blks_read",
        "blks_hit",
        "temp_bytes",
        "deadlocks",
    )
}
LOAD_COLUMNS |= {"wal_bytes": "float64", "checkpoints": "int64"}

_QUALIFIED = "n.nspname || '.' || c.relname"


def _epoch(expr: str) -> str:
    # date_part() is float8 on every version (extract() returns numeric from 14 on): cheap to compute and parse.
    return f"date_part('epoch', {expr})"


def _activity_cte() -> str:
    # pg_blocking_pids() takes every lock-manager partition lock, so it is asked only for backends
    # actually waiting on a heavyweight lock (wait_event_type 'Lock'); everyone else gets ''.
    return f"""
    a AS MATERIALIZED (
      SELECT pid, application_name, backend_type, state, wait_event_type, wait_event,
             CASE WHEN wait_event_type = 'Lock'
                  THEN array_to_string(pg_blocking_pids(pid), ',') ELSE '' END AS blocked_by,
             {_epoch("xact_start")} AS xact_start, {_epoch("query_start")} AS query_start,
             backend_xid::text::bigint AS backend_xid, left(query, 200) AS query
        FROM pg_stat_get_activity(NULL)
       WHERE datid = %(database)s AND pid <> pg_backend_pid())"""


def _relevance_cte() -> str:
    # `waits`: someone waits on a heavyweight lock (then every backend's locks are read, the holders'
    # included); `watched`: the migration is in a statement or a transaction (then its own locks are read).
    return """
    g AS MATERIALIZED (
      SELECT %(full)s OR coalesce(bool_or(wait_event_type = 'Lock'), false) AS waits,
             coalesce(bool_or(application_name = %(watch)s AND state <> 'idle'), false) AS watched
        FROM a)"""


def _locks_cte(version_num: int) -> str:
    # waitstart appeared in PostgreSQL 14. Granted locks other than 'relation' (every transaction
    # holds its own virtualxid/transactionid) are dropped as noise; a waiting lock of any type is kept:
    # a row-lock wait shows as a non-granted 'transactionid' (or 'tuple') lock.
    # Relation oids are per database: only locks in this database (or on shared catalogs, database 0) can
    # be named through this database's pg_class; the others' oid is left NULL.
    waitstart = _epoch("l.waitstart") if version_num >= 140000 else "NULL::float8"
    return f"""
    l0 AS MATERIALIZED (
      SELECT l.pid, l.locktype, l.database, l.relation AS relid, l.mode, l.granted,
             {waitstart} AS waitstart, l.transactionid::text::bigint AS transactionid, l.virtualxid,
             l.virtualtransaction AS vxid
        FROM pg_locks l
       WHERE (SELECT waits OR watched FROM g)
         AND l.pid IN (SELECT pid FROM a WHERE (SELECT waits FROM g) OR application_name = %(watch)s)
         AND (l.locktype = 'relation' OR NOT l.granted)),
    l AS (
      SELECT pid, locktype, CASE WHEN database IN (0, %(database)s) THEN relid END AS relid, mode, granted,
             waitstart, transactionid, virtualxid, vxid
        FROM l0)"""


_PROGRESS_VIEWS = {
    # view: (command, blocks_total, blocks_done, tuples_total, tuples_done); NULL where it has none.
    "create_index": ("command", "blocks_total", "blocks_done", "tuples_total", "tuples_done"),
    "cluster": ("command", "heap_blks_total", "heap_blks_scanned", "NULL::bigint", "heap_tuples_scanned"),
    "vacuum": ("NULL::text", "heap_blks_total", "heap_blks_scanned", "NULL::bigint", "NULL::bigint"),
    "analyze": ("NULL::text", "sample_blks_total", "sample_blks_scanned", "NULL::bigint", "NULL::bigint"),
}


def _progress_cte(gate: str = "true") -> str:
    selects = [
        f"SELECT pid, '{view}'::text AS view, {cmd} AS command, phase, relid, {bt} AS blocks_total, "
        f"{bd} AS blocks_done, {tt} AS tuples_total, {td} AS tuples_done "
        f"FROM pg_stat_progress_{view} WHERE datname = current_database() AND {gate}"
        for view, (cmd, bt, bd, tt, td) in _PROGRESS_VIEWS.items()
    ]
    union = "\n      UNION ALL ".join(selects)
    return f"""
    p AS (
      SELECT p.pid, p.view, p.command, p.phase, {_QUALIFIED} AS relation, p.blocks_total,
             p.blocks_done, p.tuples_total, p.tuples_done
        FROM ({union}) p
        LEFT JOIN pg_class c ON c.oid = p.relid
        LEFT JOIN pg_namespace n ON n.oid = c.relnamespace)"""


def _aggregate(alias: str, prefix: str, columns: list[str]) -> str:
    arrays = ", ".join(f"array_agg({col}) AS {prefix}_{col}" for col in columns)
    return f"(SELECT {arrays} FROM {alias}) {alias}{alias}"


def snapshot_sql(version_num: int, progress: bool = True) -> str:
    """Activity, locks (LOCK_QUERY_COLUMNS) and progress of the current database as one row of arrays (the
    sampler excluded), then `watched_xact` (when the watched backend's transaction began: it changes when
    the migration commits, so does the catalogue) and `relevant` (see the module's docstring). Parameters:
    full (bool), watch (application_name or None), database (the current database's oid).
    Nothing analyses progress, so the adaptive sampler reads it apart (`progress_sql`), less often: even
    gated off, its four views cost a snapshot about a third more."""
    views = f",{_progress_cte('(SELECT waits OR watched FROM g)')}" if progress else ""
    arrays = f"{_aggregate('p', 'p', PROGRESS_COLUMNS)}, " if progress else ""
    return (
        f"WITH {_activity_cte()},{_relevance_cte()},{_locks_cte(version_num)}{views}\n"
        f"SELECT * FROM {_aggregate('a', 'a', ACTIVITY_COLUMNS)}, {_aggregate('l', 'l', LOCK_QUERY_COLUMNS)}, "
        f"{arrays}(SELECT (SELECT max(xact_start) FROM a WHERE application_name = %(watch)s) AS watched_xact, "
        "waits OR watched AS relevant FROM g) gg"
    )


def progress_sql() -> str:
    """The progress views of the current database as one row of arrays."""
    return f"WITH {_progress_cte()}\nSELECT * FROM {_aggregate('p', 'p', PROGRESS_COLUMNS)}"


def _checkpoints(version_num: int) -> str:
    # Checkpoint counters moved from pg_stat_bgwriter to pg_stat_checkpointer in 17; the timed counter
    # also counts checkpoints skipped on an idle server, so 18's num_done (completed ones) is preferred.
    if version_num >= 180000:
        return "(SELECT num_done FROM pg_stat_checkpointer)"
    if version_num >= 170000:
        return "(SELECT num_timed + num_requested FROM pg_stat_checkpointer)"
    return "(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)"


def load_sql(version_num: int) -> str:
    """Cumulative counters of the current database, WAL bytes since the LSN given as %s, checkpoints."""
    # pg_wal_lsn_diff exists on every supported version (pg_stat_wal only from 14).
    counters = ", ".join(list(LOAD_COLUMNS)[:-2])
    return (
        f"SELECT {counters}, pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)::float8, "
        f"{_checkpoints(version_num)} FROM pg_stat_database WHERE datname = current_database()"
    )


WAL_LSN_SQL = "SELECT pg_current_wal_lsn()::text"
DATABASE_OID_SQL = "SELECT oid FROM pg_database WHERE datname = current_database()"
NAMES_SQL = f"""
    SELECT c.oid, {_QUALIFIED}, c.relkind::text
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = ANY (%s::oid[])"""
