"""What a profile reads from a server's catalogue and statistics views: never a table's rows.

Tables come from pg_class (sizes by pg_relation_size and friends, which read file sizes), activity from
pg_stat_user_tables divided by the seconds since the statistics reset, columns from pg_attribute joined
to pg_stats, whose anyarray columns are read as text[] (`::text::text[]`): each value in PostgreSQL's
text output, whatever the column's type. `real` statistics go through text (`::text::float8`) so that
0.1 reads 0.1, as pg_dump --statistics-only writes it, not 0.10000000149011612.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from datagen.profile import plans
from datagen.profile.model import RATE_FIELDS, Column, Query, Rates, Table
from datagen.profile.session import USER_TABLES

_SECONDS = """
SELECT extract(epoch FROM now() - coalesce(
    (SELECT stats_reset FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()),
    pg_catalog.pg_postmaster_start_time()))::float8"""
_TABLES = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.reltuples::float8, c.relpages,
       pg_catalog.pg_relation_size(c.oid, 'main'),
       coalesce(pg_catalog.pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0),
       pg_catalog.pg_indexes_size(c.oid),
       s.seq_scan, s.idx_scan, s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.n_tup_hot_upd
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid
WHERE {USER_TABLES}
ORDER BY n.nspname, c.relname"""
# A partitioned parent's statistics are those of its whole tree (inherited = true); a plain table's are
# its own (inherited = false; a table with old-style inheritance children has both rows).
_COLUMNS = f"""
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       s.null_frac::text::float8, s.avg_width, s.n_distinct::text::float8,
       s.most_common_vals::text::text[], s.most_common_freqs::text::float8[],
       s.histogram_bounds::text::text[], s.correlation::text::float8
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
     AND s.attname = a.attname AND s.inherited = (c.relkind = 'p')
WHERE a.attnum > 0 AND NOT a.attisdropped AND {USER_TABLES}
ORDER BY a.attrelid, a.attnum"""
_DOMAINS = """
SELECT pg_catalog.format_type(t.oid, NULL), pg_catalog.format_type(t.typbasetype, t.typtypmod)
FROM pg_catalog.pg_type t WHERE t.typtype = 'd'"""
_STATEMENTS_SCHEMA = """
SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'"""


def read_tables(conn: psycopg.Connection) -> tuple[Table, ...]:
    """Every user table and partitioned parent, with its sizes, rates and columns."""
    seconds = conn.execute(_SECONDS).fetchone()[0]
    columns: dict[int, list[Column]] = {}
    for oid, name, type_, *stats in conn.execute(_COLUMNS):
        columns.setdefault(oid, []).append(_column(name, type_, *stats))
    tables = []
    for oid, schema, name, kind, tuples, pages, heap, toast, index, *counters in conn.execute(_TABLES):
        rates = _rates(seconds, counters)
        sizes = dict(heap_bytes=heap, toast_bytes=toast, index_bytes=index)
        tables.append(Table(schema, name, kind, tuples, pages, **sizes, rates=rates, columns=tuple(columns[oid])))
    return tuple(tables)


def _column(name, type_, null_frac, avg_width, n_distinct, mcv, freqs, bounds, correlation) -> Column:
    return Column(
        name, type_, null_frac, avg_width, n_distinct, _tuple(mcv), _tuple(freqs), _tuple(bounds), correlation
    )


def _tuple(values):
    return None if values is None else tuple(values)


def _rates(seconds: float | None, counters: list) -> Rates:
    """Counters per second; None where the counter is null (idx_scan of a table without indexes, a
    partitioned parent) or the statistics were reset just now."""
    if not seconds or seconds <= 0:
        return Rates(seconds=seconds)
    per_second = {k: (None if v is None else v / seconds) for k, v in zip(RATE_FIELDS, counters)}
    return Rates(seconds=seconds, **per_second)


def read_domains(conn: psycopg.Connection) -> dict[str, str]:
    """{domain type text: its base type text}, for deciding which columns are text-like."""
    return dict(conn.execute(_DOMAINS).fetchall())


def read_queries(conn: psycopg.Connection, top: int) -> tuple[tuple[Query, ...], str | None]:
    """The `top` statements by calls in this database from pg_stat_statements, and a note when there are
    none to read (not installed here, or installed but not loaded by shared_preload_libraries)."""
    if top <= 0:
        return (), "queries: not read (--top-queries 0)"
    row = conn.execute(_STATEMENTS_SCHEMA).fetchone()
    if row is None:
        return (), "queries: none, pg_stat_statements is not installed in this database"
    view = f"{sql.Identifier(row[0]).as_string(conn)}.pg_stat_statements"
    query = (
        f"SELECT query, calls, mean_exec_time, rows FROM {view} "
        "WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) "
        "AND query IS NOT NULL ORDER BY calls DESC, queryid LIMIT %s"
    )
    try:
        rows = conn.execute(query, (top,)).fetchall()
    except psycopg.Error as exc:
        return (), f"queries: none, pg_stat_statements cannot be read ({str(exc).splitlines()[0]})"
    return tuple(Query(q, int(c), float(t), int(r), plans.shape(conn, q)) for q, c, t, r in rows), None
