"""Giving a scratch copy to the migration role: the database, its schemas and objects, and the app's rights.

Templates are built by the admin; each clone is handed over after it is made. `REASSIGN OWNED` cannot move
the bootstrap superuser's objects, so each object gets its own `ALTER … OWNER` (a catalogue update, no
rewrite). Objects that follow their owner are left out: indexes and owned sequences follow their table,
extension members their extension (they stay the superuser's).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import psycopg
from psycopg import sql

from common.errors import BadInput
from dbserver import databases, warm
from dbserver.roles import Roles
from dbserver.server import Server

_USER_SCHEMAS = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
_NOT_DEPENDENT = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {cls}::regclass AND d.objid = {oid} AND d.deptype IN ('a', 'i', 'e'))"
OWNED_OBJECTS = f"""
SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, {{role}}) FROM pg_namespace n
 WHERE {_USER_SCHEMAS} AND {_NOT_DEPENDENT.format(cls="'pg_namespace'", oid="n.oid")}
UNION ALL
SELECT format('ALTER %s %I.%I OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                             WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,
              n.nspname, c.relname, {{role}})
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND {_USER_SCHEMAS}
   AND {_NOT_DEPENDENT.format(cls="'pg_class'", oid="c.oid")}
UNION ALL
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, {{role}})
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE {_USER_SCHEMAS} AND {_NOT_DEPENDENT.format(cls="'pg_proc'", oid="p.oid")}
UNION ALL
SELECT format('ALTER TYPE %I.%I OWNER TO %I', n.nspname, t.typname, {{role}})
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'd', 'r') AND {_USER_SCHEMAS} AND {_NOT_DEPENDENT.format(cls="'pg_type'", oid="t.oid")}
"""
APP_TABLES = "SELECT, INSERT, UPDATE, DELETE"
OWN_GRANTS = f"""
SELECT format('GRANT {APP_TABLES} ON %I.%I TO %I', n.nspname, c.relname, {{app}})
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) = current_user AND {_USER_SCHEMAS}
UNION ALL
SELECT format('GRANT USAGE, SELECT ON SEQUENCE %I.%I TO %I', n.nspname, c.relname, {{app}})
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND pg_get_userbyid(c.relowner) = current_user AND {_USER_SCHEMAS}
UNION ALL
SELECT format('GRANT EXECUTE ON ROUTINE %s TO %I', p.oid::regprocedure, {{app}})
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE pg_get_userbyid(p.proowner) = current_user AND {_USER_SCHEMAS}
"""


@contextlib.contextmanager
def clone_for(
    server: Server, roles: Roles | None, template: str, name: str | None = None, warm_spare: bool = False
) -> Iterator[str]:
    """databases.clone, handed to the migration role when there are roles (None: stays the admin's). With
    `warm_spare`, the template's warm spare when one is ready (dbserver.warm: a rename, not a copy), and no
    spare is copied meanwhile."""
    if not warm_spare:
        with databases.clone(server, template, name=name) as scratch:
            yield from _handed(server, roles, scratch)
        return
    name = name or f"rehearsal_scratch_{secrets.token_hex(4)}"
    with warm.quiet(server, template), warm.clone(server, template, name) as (scratch, _):
        yield from _handed(server, roles, scratch)


def _handed(server: Server, roles: Roles | None, scratch: str) -> Iterator[str]:
    if roles is not None:
        hand_over(server, roles, scratch)
    yield scratch


def hand_over(server: Server, roles: Roles, dbname: str) -> None:
    """The migration role owns `dbname` and everything in it; the app role gets an application's rights."""
    try:
        with server.connect() as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(*_ids(dbname, roles.migration_role)))
        with server.connect(dbname) as conn:
            for (statement,) in conn.execute(
                sql.SQL(OWNED_OBJECTS).format(role=sql.Literal(roles.migration_role))
            ).fetchall():
                conn.execute(statement)
        with roles.migration.connect(dbname) as conn:
            _grant_app(conn, dbname, roles.app_role)
    except psycopg.Error as exc:
        raise BadInput(
            f"cannot give the scratch database to role {roles.migration_role} ({str(exc).splitlines()[0]}); "
            f"the connecting user must be a superuser or a member of {roles.migration_role}"
        ) from None


def _grant_app(conn: psycopg.Connection, dbname: str, app: str) -> None:
    """As the owner: what an application role has, now and on what the migration creates later."""
    schemas = [r[0] for r in conn.execute(f"SELECT n.nspname FROM pg_namespace n WHERE {_USER_SCHEMAS}")]
    statements = [sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(*_ids(dbname, app))]
    for schema in schemas:
        ids = _ids(schema, app)
        statements += [
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(ids[0]),  # before 15 public allowed it
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(*ids),
        ]
    # Object by object, only what the migration role owns: an extension's objects stay the superuser's, and a
    # GRANT … ON ALL … IN SCHEMA would fail on those it may not grant (e.g. pgstattuple's functions).
    grants = conn.execute(sql.SQL(OWN_GRANTS).format(app=sql.Literal(app))).fetchall()
    statements += [sql.SQL(row[0]) for row in grants]
    default = "ALTER DEFAULT PRIVILEGES GRANT {} TO {}"
    for what in (APP_TABLES + " ON TABLES", "USAGE, SELECT ON SEQUENCES", "EXECUTE ON ROUTINES", "USAGE ON SCHEMAS"):
        statements.append(sql.SQL(default).format(sql.SQL(what), sql.Identifier(app)))
    for statement in statements:
        conn.execute(statement)


def _ids(*names: str) -> list[sql.Identifier]:
    return [sql.Identifier(n) for n in names]
