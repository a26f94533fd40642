"""The shape of a query's generic plan: `EXPLAIN (GENERIC_PLAN)` node types, relations and indexes in tree
order, costs and row estimates left out. Read on production when profiling and on the twin after its build:
the same shape means the twin's planner makes the choices production's does for that statement.

`EXPLAIN (GENERIC_PLAN)` plans a statement with `$n` placeholders without values (PostgreSQL 16+). It only
plans, so it runs in the profile's read-only session; a statement it cannot plan (DDL, a utility command,
a server before 16) has no shape (None), and says why where it is listed.
"""

from __future__ import annotations

import json

import psycopg

MIN_VERSION = 160000
_NAMED = ("Relation Name", "Index Name", "Join Type", "Strategy")


def shape(conn: psycopg.Connection, query: str) -> tuple[str, ...] | None:
    """One string per plan node, pre-order, indented by depth: "Index Scan orders orders_pkey"."""
    if conn.info.server_version < MIN_VERSION:
        return None
    try:
        with conn.transaction():  # a failed EXPLAIN must not end the session's transaction
            # the profile session's search_path is '' (types schema-qualified); the application's is the default
            conn.execute("SELECT pg_catalog.set_config('search_path', '\"$user\", public', true)")
            row = conn.execute(f"EXPLAIN (GENERIC_PLAN, FORMAT JSON) {query}").fetchone()  # noqa: S608 (the profile's own text)
    except psycopg.Error:
        return None
    plan = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return tuple(_nodes(plan[0]["Plan"], 0))


def _nodes(node: dict, depth: int):
    words = [node["Node Type"]] + [str(node[k]) for k in _NAMED if k in node]
    yield "  " * depth + " ".join(words)
    for child in node.get("Plans", ()):
        yield from _nodes(child, depth + 1)


def compare(conn: psycopg.Connection, queries) -> list[dict]:
    """Per profile query that has a production shape: the twin's shape, and whether the two are the same."""
    found = []
    for query in queries:
        if not query.plan_shape:
            continue
        twin = shape(conn, query.query)
        production = list(query.plan_shape)
        same = twin is not None and list(twin) == production
        found.append(dict(query=query.query, production=production, twin=list(twin or ()), same_shape=same))
    return found
