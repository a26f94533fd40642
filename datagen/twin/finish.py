"""After the load: the post-data schema, materialized views, sequences past the loaded maximum."""

from __future__ import annotations

import psycopg
from psycopg import sql

from common.errors import BadInput

SERIAL = "SELECT pg_get_serial_sequence(%s, %s)"


def run(conn: psycopg.Connection, statements: list[str], section: str) -> None:
    """Each statement on its own; the first failure is one line naming the statement and the server's words."""
    for statement in statements:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            first = " ".join(statement.split())[:120]
            raise BadInput(
                f"{section} statement `{first}` failed ({exc.sqlstate}: {exc.diag.message_primary}); "
                "fix the profile's schema_sql (it must be `pg_dump --schema-only` output)"
            ) from None


def refresh(conn: psycopg.Connection, matviews: list[str]) -> None:
    for name in matviews:
        schema, table = name.split(".", 1)
        conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW {}").format(sql.Identifier(schema, table)))


def sequences(conn: psycopg.Connection, plans) -> None:
    """Serial and identity columns: their sequence continues after the largest loaded value."""
    for plan in plans:
        for column in plan.columns:
            if column.info.base not in ("int2", "int4", "int8"):
                continue
            found = conn.execute(SERIAL, (plan.name, column.name)).fetchone()[0]
            if found:
                schema, table = plan.name.split(".", 1)
                top = conn.execute(
                    sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column.name), sql.Identifier(schema, table))
                ).fetchone()[0]
                if top is not None:
                    conn.execute("SELECT setval(%s, %s)", (found, top))
