"""The two ordinary roles a rehearsal runs as: the migration's (owns the scratch copy) and the application's.

The admin connection (superuser on the embedded and --postgres-bin servers) builds templates, clones and
drops them, and samples; the migration logs in as MIGRATION, which owns the scratch database and every
object in it and nothing else, and the application logs in as APP, with a real application's rights. They
log in as themselves rather than `SET ROLE` from the admin session, which the migration could `RESET`.

On a --dsn server whose user may not create roles, the user names two existing ones instead
(`migration_role`, `app_role`; libpq finds their passwords in ~/.pgpass or PGPASSFILE).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

import psycopg
from psycopg import sql

from common.errors import BadInput
from common.paths import data_dir
from dbserver.server import Server

MIGRATION = "rehearsal_migration"
APP = "rehearsal_app"
# Membership in these lets a role run programs or read and write files as the server's OS user.
SERVER_FILE_ROLES = ("pg_execute_server_program", "pg_write_server_files", "pg_read_server_files")
_ATTRIBUTES = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")


@dataclass(frozen=True)
class Roles:
    """Logins for the migration and the application on one server (passwords inside, never shown)."""

    migration: Server
    app: Server
    migration_role: str
    app_role: str


def ensure_roles(server: Server, migration_role: str | None = None, app_role: str | None = None) -> Roles:
    """The roles to run as: the ones named, else ours, created (or their password reset) when missing."""
    if migration_role or app_role:
        if not (migration_role and app_role):
            raise BadInput("give both --migration-role and --app-role (or neither, to let the tool create them)")
        names, passwords = (migration_role, app_role), (None, None)
    else:
        names, passwords = (MIGRATION, APP), _create(server)
    with server.connect() as conn:
        for name in names:
            _check_unprivileged(conn, name)
    return Roles(server.as_role(names[0], passwords[0]), server.as_role(names[1], passwords[1]), *names)


def superusers(server: Server, names) -> list[str]:
    """Which of `names` are superusers on the server (for SET ROLE / SET SESSION AUTHORIZATION)."""
    with server.connect() as conn:
        rows = conn.execute("SELECT rolname FROM pg_roles WHERE rolsuper AND rolname = ANY(%s)", (list(names),))
        return sorted(row[0] for row in rows)


def _create(server: Server) -> tuple[str, str]:
    """Our two roles with generated passwords, kept 0600 under data/ so later runs log in with them."""
    stored, fresh = _passwords(server)
    with server.connect() as conn:
        existing = {
            r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname IN (%s, %s)", (MIGRATION, APP))
        }
        if existing == {MIGRATION, APP} and not fresh:
            return stored[MIGRATION], stored[APP]
        _require_createrole(conn, server)
        for name in (MIGRATION, APP):
            verb = "ALTER" if name in existing else "CREATE"
            verifier = conn.pgconn.encrypt_password(stored[name].encode(), name.encode()).decode()
            conn.execute(
                sql.SQL("{} ROLE {} {} PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(name), _ATTRIBUTES, sql.Literal(verifier)
                )
            )
            _let_admin_hand_over(conn, name)
    return stored[MIGRATION], stored[APP]


def _passwords(server: Server) -> tuple[dict, bool]:
    """({role: password}, True when just generated) for this server, from a file only we may read."""
    key = psycopg.conninfo.conninfo_to_dict(server.dsn)
    label = "-".join(str(key.get(k, "")) for k in ("host", "port")).replace("/", "_").strip("_-") or "default"
    path = data_dir() / "roles" / f"{label[-80:]}.json"
    if path.exists():
        return json.loads(path.read_text()), False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    stored = {MIGRATION: secrets.token_urlsafe(24), APP: secrets.token_urlsafe(24)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(stored, handle)
    return stored, True


def _require_createrole(conn: psycopg.Connection, server: Server) -> None:
    user, may = conn.execute(
        "SELECT current_user, rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if not may:
        raise BadInput(
            f"{user} on {server.display} may not create roles (no CREATEROLE), and the migration must not run as "
            f"{user}; create two ordinary LOGIN roles and give them with --migration-role and --app-role"
        )


def _let_admin_hand_over(conn: psycopg.Connection, name: str) -> None:
    """A CREATEROLE admin (not superuser) must be a member of a role to give it the scratch database."""
    if not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(name)))


def _check_unprivileged(conn: psycopg.Connection, name: str) -> None:
    row = conn.execute(
        "SELECT rolcanlogin, rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls, "
        "array(SELECT g FROM unnest(%s::text[]) g WHERE pg_has_role(oid, g, 'MEMBER')) "
        "FROM pg_roles WHERE rolname = %s",
        (list(SERVER_FILE_ROLES), name),
    ).fetchone()
    if row is None or not row[0]:
        raise BadInput(f"role {name} does not exist or cannot log in; create it with LOGIN, or name another")
    if row[1] or row[2]:
        extra = f" and is a member of {', '.join(row[2])}" if row[2] else ""
        raise BadInput(
            f"role {name} is privileged (SUPERUSER, CREATEROLE, CREATEDB or BYPASSRLS{extra}); "
            "a rehearsal runs the migration and the application as ordinary roles: name ordinary ones"
        )
