"""How close the twin came to its profile, per column and table, read back from ANALYZE's statistics."""

from __future__ import annotations

import psycopg
from psycopg import sql

from datagen.profile.model import Profile
from datagen.twin.chunk import TablePlan

STATS = """
SELECT attname, null_frac, n_distinct, avg_width FROM pg_stats
WHERE schemaname = %s AND tablename = %s
"""
# As the profile measures production (datagen.profile.catalog): the main fork and TOAST, not the free space
# and visibility maps, which a small table's VACUUM adds in whole pages.
SIZES = """
SELECT pg_relation_size(c.oid, 'main') + coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0),
       pg_indexes_size(c.oid)
FROM pg_class c WHERE c.oid = %s::regclass"""


def measure(conn: psycopg.Connection, profile: Profile, plans: list[TablePlan]) -> dict:
    """{table: {rows, bytes_per_row: {twin, profile}, index_bytes_per_row: {…}, columns: {column: {…}}}}."""
    wanted = {t.qualified: t for t in profile.tables}
    return {plan.name: _table(conn, wanted[plan.name], plan) for plan in plans}


def _table(conn, table, plan: TablePlan) -> dict:
    schema, name = plan.name.split(".", 1)
    twin = {r[0]: r[1:] for r in conn.execute(STATS, (schema, name)).fetchall()}
    heap, index = conn.execute(SIZES, (plan.name,)).fetchone()
    rows = max(1, plan.rows)
    production = max(1.0, table.reltuples)
    result = {
        "rows": plan.rows,
        "bytes_per_row": _pair(heap / rows, (table.heap_bytes + table.toast_bytes) / production),
        "index_bytes_per_row": _pair(index / rows, table.index_bytes / production),
        "columns": {},
    }
    stats = {c.name: c for c in table.columns}
    for column in plan.columns:
        wanted, got = stats.get(column.name), twin.get(column.name)
        if wanted is None or wanted.null_frac is None or got is None:
            continue
        result["columns"][column.name] = {
            "null_frac_error": round(abs(float(got[0]) - wanted.null_frac), 4),
            "distinct_ratio": _ratio(_count(got[1], plan.rows), _expected(wanted, plan.rows)),
            "histogram_distance": _histogram(conn, plan.name, column, wanted),
            "avg_width": _pair(got[2], wanted.avg_width),
        }
    return result


def _pair(twin, production) -> dict:
    return {"twin": None if twin is None else round(float(twin), 1), "profile": round(float(production or 0), 1)}


def _count(n_distinct: float, rows: int) -> float:
    return -n_distinct * rows if n_distinct < 0 else n_distinct


def _expected(wanted, rows: int) -> float:
    """The profile's distinct count at the twin's size: a fraction of rows, or a count capped by the rows."""
    nonnull = rows * (1 - wanted.null_frac)
    if wanted.n_distinct is None:
        return nonnull
    return -wanted.n_distinct * rows if wanted.n_distinct < 0 else min(wanted.n_distinct, nonnull)


def _ratio(got: float, wanted: float) -> float | None:
    return round(got / wanted, 3) if wanted > 0 else None


def _histogram(conn, table: str, column, wanted) -> float | None:
    """Total variation distance between the twin's share of (non-MCV) rows in each production histogram
    bucket and the production share (equal, by construction of an equi-depth histogram)."""
    bounds = wanted.histogram_bounds
    if not bounds or len(bounds) < 2 or column.parent is not None:
        return None
    schema, name = table.split(".", 1)
    kind = sql.SQL(column.info.shown)
    query = sql.SQL(
        "SELECT width_bucket(v, {bounds}::{kind}[]), count(*) FROM (SELECT {col} AS v FROM {tbl}) s "
        "WHERE v IS NOT NULL AND v <> ALL({mcv}::{kind}[]) GROUP BY 1"
    ).format(
        bounds=sql.Literal(list(bounds)),
        kind=kind,
        col=sql.Identifier(column.name),
        tbl=sql.Identifier(schema, name),
        mcv=sql.Literal([v for v in wanted.most_common_vals or () if v is not None]),
    )
    try:
        with conn.transaction():
            counts = dict(conn.execute(query).fetchall())
    except psycopg.Error:
        return None  # a type without an ordering (json, point…): no histogram to compare
    total = sum(counts.values())
    if not total:
        return None
    buckets = len(bounds) - 1
    share = {b: counts.get(b, 0) / total for b in range(0, buckets + 2)}
    return round(0.5 * sum(abs(share[b] - (1 / buckets if 1 <= b <= buckets else 0)) for b in share), 4)
