"""The sort cliff: an index build whose sort outgrows maintenance_work_mem spills to disk (an external merge).

A btree build (CREATE INDEX, ADD PRIMARY KEY, ADD UNIQUE) sorts one index tuple per row. While the sort fits
in maintenance_work_mem it runs in memory; past it the tuples are written out in runs and merged, and the
per-row cost steps up. A fit through scales whose sort fitted under-predicts a production size whose sort
does not. So, as with the cache cliff (cache.py): the memory the sort needs is estimated per row from the
key's width in the table's statistics (pg_stats.avg_width, read on a throwaway clone of the largest
rehearsal's template), and where production's sort passes maintenance_work_mem (production's when read
from it, else the rehearsal server's) while the largest rehearsal's did not, the interval's high end is
raised by SPILL_FACTOR and the warning names it.

Per row the sort holds an IndexTuple (an 8-byte header and the key, MAXALIGNed) and a SortTuple slot (24
bytes), plus the slack of its growing array: SORT_SLOT = 32. Calibrated on PostgreSQL 18 with trace_sort (a
serial build of 1 M rows): an 8-byte text key sorted in memory from 48 MB (estimate 48 bytes a row), a
bigint from 40 MB (estimate 48), a 33-byte text from 72 MB (estimate 80): the estimate errs towards a
spill. A parallel build splits maintenance_work_mem among its participants and the rows with it, so the
total is compared as it is.

Not the cause of bench/RESULTS-extrapolation.md's CREATE INDEX miss (−32 % at SF 1): on the embedded server
(maintenance_work_mem 1 GB) a build over 10 M short text keys sorts each of its three participants' share in
one run (trace_sort), as it does at SF 0.1, so no crossing is flagged there.
"""

from __future__ import annotations

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream

# per-row time of a spilled index build over one sorted in memory, measured on this machine (2 M rows,
# maintenance_work_mem 8 MB against 256 MB, 2 parallel workers): ×1.28 to ×1.42; rounded up
SPILL_FACTOR = 1.5
TUPLE_HEADER = 8  # IndexTupleData
SORT_SLOT = 32  # SortTuple (24 bytes) and the slack of the sort's growing array
UNKNOWN_WIDTH = 16  # an expression key, or a column without statistics


def index_build(sql: str) -> tuple[str, list[str | None]] | None:
    """(table, key columns; None for an expression) of a btree build that sorts, or None: CREATE INDEX
    (CONCURRENTLY too), ALTER TABLE … ADD PRIMARY KEY / UNIQUE (not USING INDEX: that builds nothing)."""
    try:
        (raw,) = pglast.parse_sql(sql)
    except (pglast.parser.ParseError, ValueError):
        return None
    node = raw.stmt
    if isinstance(node, ast.IndexStmt) and (node.accessMethod or "btree") == "btree":
        return RawStream()(node.relation), [p.name for p in node.indexParams]
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            con = cmd.def_
            if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(con, ast.Constraint):
                unique = con.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
                if unique and not con.indexname and con.keys:
                    return RawStream()(node.relation), [k.sval for k in con.keys]
    return None


def bytes_per_row(widths: list[int | None]) -> int:
    """The sort's memory per row for a key of these column widths (None: unknown, UNKNOWN_WIDTH)."""
    key = sum(UNKNOWN_WIDTH if w is None else w for w in widths)
    return -(-(TUPLE_HEADER + key) // 8) * 8 + SORT_SLOT


def spills_at(per_row: int | None, maintenance_work_mem: int | None, rehearsed_rows, production_rows) -> int | None:
    """The rows at which the sort spills, where the largest rehearsal sorted in memory and production will
    not; None otherwise (no estimate, no setting, or no crossing between the two)."""
    if not (per_row and maintenance_work_mem and rehearsed_rows and production_rows):
        return None
    at = maintenance_work_mem // per_row
    return int(at) if rehearsed_rows <= at < production_rows else None


def widen(p: dict) -> dict:
    """The interval's high ends × SPILL_FACTOR: no rehearsal measured a sort that spilled."""
    return dict(high_ms=p["high_ms"] * SPILL_FACTOR, hold_high_ms=p["hold_high_ms"] * SPILL_FACTOR)


def warning(rows: int | None) -> str | None:
    if rows is None:
        return None
    return (
        f"index build sort spills past maintenance_work_mem at ~{rows:,} rows: ×{SPILL_FACTOR:.1f} uncertainty "
        "(the interval's high end includes it); rehearse past that size, or raise maintenance_work_mem for the build"
    )


def key_widths(conn, table: str, columns: list[str | None]) -> list[int | None]:
    """pg_stats.avg_width of each key column of `table` (None for an expression or a column never analysed)."""
    query = (
        "SELECT s.attname, s.avg_width FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname WHERE c.oid = %s::regclass"
    )
    widths = dict(conn.execute(query, (table,)).fetchall())
    return [widths.get(c) if c else None for c in columns]


def for_scaled(scaled, statements, server) -> dict[int, int]:
    """{statement index: the sort's bytes per row} of a scaled rehearsal's index builds, their keys' widths
    read on a clone of its largest scale's template (the template itself stays free for copies)."""
    import psycopg

    import dbserver

    builds = {st.index: found for st in statements if (found := index_build(st.sql))}
    template = scaled.largest.manifest.dataset
    if not builds or not template:
        return {}
    try:
        with dbserver.clone(server, template) as name, psycopg.connect(server.url(name)) as conn:
            return {i: bytes_per_row(_widths(conn, *build)) for i, build in builds.items()}
    except (psycopg.Error, dbserver.RehearsalError):  # no clone to look at: the projection stays as fitted
        return {}


def _widths(conn, table: str, columns: list[str | None]) -> list[int | None]:
    """Key widths, or unknown ones where the table is not in the template (the migration created it)."""
    import psycopg

    try:
        with conn.transaction():
            return key_widths(conn, table, columns)
    except psycopg.Error:
        return [None] * len(columns)
