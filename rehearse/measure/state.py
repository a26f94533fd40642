"""What a database looks like: schema snapshot, row fingerprints, and the differences between two states.

Used to check that a rollback restores the schema and the data, and to list what a failed migration left
behind (INVALID indexes, NOT VALID constraints, half-applied columns).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

# Our own bookkeeping lives in rehearsal_meta and is never part of the application's state.
APP_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'rehearsal_meta') "
    "AND n.nspname NOT LIKE 'pg_temp%%'"
)

QUERIES = {
    "columns": f"""
        SELECT n.nspname || '.' || c.relname || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
               || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {APP_SCHEMAS}""",
    "constraints": f"""
        SELECT n.nspname || '.' || c.relname || '.' || k.conname,
               pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (NOT VALID)' END
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {APP_SCHEMAS}""",
    "indexes": f"""
        SELECT n.nspname || '.' || c.relname,
               pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {APP_SCHEMAS}""",
    "triggers": f"""
        SELECT n.nspname || '.' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND {APP_SCHEMAS}""",
    "sequences": f"""
        SELECT n.nspname || '.' || c.relname, format_type(s.seqtypid, NULL) || ' increment ' || s.seqincrement
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {APP_SCHEMAS}""",
    "routines": f"""
        SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE {APP_SCHEMAS}""",
    "tables": f"""
        SELECT n.nspname || '.' || c.relname, c.relkind::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm') AND {APP_SCHEMAS}""",
}


def schema(conn: psycopg.Connection) -> dict[str, dict[str, str]]:
    """Every application object by kind: name -> definition, comparable between two databases."""
    return {kind: dict(conn.execute(query).fetchall()) for kind, query in QUERIES.items()}


def schema_diff(before: dict, after: dict) -> list[str]:
    """Precise differences, one line each: 'column public.orders.transaction_id: text NOT NULL → bigint NOT NULL'."""
    lines = []
    for kind in QUERIES:
        old, new = before.get(kind, {}), after.get(kind, {})
        label = kind.rstrip("s") if kind != "indexes" else "index"
        for name in sorted(old.keys() - new.keys()):
            lines.append(f"{label} {name}: missing (was {old[name]})")
        for name in sorted(new.keys() - old.keys()):
            lines.append(f"{label} {name}: added ({new[name]})")
        for name in sorted(old.keys() & new.keys()):
            if old[name] != new[name]:
                lines.append(f"{label} {name}: {old[name]} → {new[name]}")
    return lines


def leftovers(before: dict, after: dict) -> list[str]:
    """What a failed or partial migration left that needs cleaning up before a retry."""
    found = [
        f"INVALID index {name}" for name, definition in after["indexes"].items() if definition.endswith("(INVALID)")
    ]
    found += [
        f"NOT VALID constraint {name}"
        for name, definition in after["constraints"].items()
        if definition.endswith("(NOT VALID)") and before["constraints"].get(name) != definition
    ]
    return found


def _primary_keys(conn: psycopg.Connection) -> dict[str, tuple[str, list[str], list[str]]]:
    """table -> (primary key column, every column in order) for tables with a one-column primary key."""
    rows = conn.execute(f"""
        SELECT n.nspname, c.relname,
               (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = k.conkey[1]),
               array(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                     AND NOT a.attisdropped ORDER BY a.attnum)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype = 'p' AND array_length(k.conkey, 1) = 1 AND {APP_SCHEMAS}""").fetchall()
    return {f"{s}.{t}": (s, t, key, cols) for s, t, key, cols in rows}


def fingerprint(conn: psycopg.Connection, tag: str = "") -> dict[str, list[str]]:
    """Store a hash of every row (by primary key) in rehearsal_meta; returns the columns hashed per table.
    `tag` keeps several fingerprints apart (a release takes one before each migration)."""
    hashed = {}
    for name, (schema_name, table, key, columns) in _primary_keys(conn).items():
        target = sql.Identifier("rehearsal_meta", f"rows{tag}_{schema_name}_{table}")
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
        conn.execute(
            sql.SQL("CREATE TABLE {} AS SELECT {} AS k, md5(ROW({})::text) AS h FROM {}").format(
                target,
                sql.Identifier(key),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.Identifier(schema_name, table),
            )
        )
        hashed[name] = [key, *columns]
    return hashed


def rows_lost(conn: psycopg.Connection, hashed: dict[str, list[str]], tag: str = "") -> dict[str, int]:
    """Per table, baseline rows not found again unchanged (missing, changed, or in a column that is gone)."""
    now = _primary_keys(conn)
    lost = {}
    for name, (key, *columns) in hashed.items():
        schema_name, table = name.split(".", 1)
        stored = sql.Identifier("rehearsal_meta", f"rows{tag}_{schema_name}_{table}")
        if name not in now or not set(columns) <= set(now[name][3]):
            lost[name] = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(stored)).fetchone()[0]
            continue
        lost[name] = conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {stored} b LEFT JOIN {table} t ON t.{key} = b.k "
                "WHERE t.{key} IS NULL OR md5(ROW({cols})::text) IS DISTINCT FROM b.h"
            ).format(
                stored=stored,
                table=sql.Identifier(schema_name, table),
                key=sql.Identifier(key),
                cols=sql.SQL(", ").join(sql.Identifier("t", c) for c in columns),
            )
        ).fetchone()[0]
    return {name: count for name, count in lost.items() if count}
