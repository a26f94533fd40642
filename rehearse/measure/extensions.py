"""The one narrow superuser path: CREATE EXTENSION of an untrusted extension, on the scratch copy only.

A trusted extension (pg_trgm, hstore, citext, …) may be created by the owner of a database, so the
migration role creates it itself. An untrusted one needs a superuser: that single statement runs on an
admin connection to the scratch database, and its record says so (`ran_as`). Extensions that reach
outside the database (dblink, postgres_fdw, file_fdw: rehearse.sql.reach) never take this path.
"""

from __future__ import annotations

import psycopg

from rehearse.sql import reach
from rehearse.sql.lock_rules import as_node


def needs_superuser(server, stmt) -> bool:
    """True for CREATE EXTENSION of an available, untrusted extension that stays inside the database."""
    if stmt.kind != "CREATE EXTENSION":
        return False
    name = as_node(stmt.sql).extname
    if name in reach.OUTSIDE_EXTENSIONS:
        return False
    with server.connect() as conn:
        row = conn.execute(
            "SELECT v.trusted FROM pg_available_extensions e "
            "JOIN pg_available_extension_versions v ON v.name = e.name AND v.version = e.default_version "
            "WHERE e.name = %s",
            (name,),
        ).fetchone()
    return row is not None and not row[0]


def run_as_superuser(server, dbname: str, sql_text: str, application_name: str) -> tuple[int | None, str]:
    """Run the statement on its own admin connection (autocommit); (rows, 'superuser <name>')."""
    with psycopg.connect(server.url(dbname), autocommit=True, application_name=application_name) as conn:
        user = conn.execute("SELECT current_user").fetchone()[0]
        cur = conn.execute(sql_text)
        return (cur.rowcount if cur.rowcount >= 0 else None), f"superuser {user}"
