"""Databases this tool owns: created and marked by it, cloned from templates, dropped only if marked."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import psycopg
from psycopg import sql

from common.errors import BadInput, NotOurDatabase
from dbserver import owners
from dbserver.server import Server

# The mark is a database comment: it lives in the shared catalogue, so it is readable without connecting
# to the database and is NOT copied by CREATE DATABASE … TEMPLATE (each clone is marked on its own).
MARK = "created by migration-rehearsal"


# Databases this process created and has not dropped or kept yet: what an interrupted command left behind.
_open: set[tuple[str, str]] = set()


def mark_text(kind: str) -> str:
    return f"{MARK}: {kind}{owners.stamp()}"


def read_mark(note: str | None) -> tuple[str, owners.Owner | None] | None:
    """A database comment → (kind, owner), None when it is not our mark."""
    if not note or not note.startswith(MARK + ": "):
        return None
    return owners.split(note[len(MARK) + 2 :])


def ownership(server: Server, name: str) -> str | None:
    """'template', 'scratch', 'building'… for a database we marked; None for any other or a missing one."""
    with server.connect() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    mark = read_mark(row[0] if row else None)
    return mark[0] if mark else None


def left_behind() -> list[str]:
    """Scratch and half-built databases this process created and has not dropped (e.g. the server went away)."""
    return sorted(name for _, name in _open)


def exists(server: Server, name: str) -> bool:
    with server.connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def list_owned(server: Server, prefix: str = "") -> dict[str, str]:
    """Every database we marked whose name starts with `prefix`, with its kind."""
    with server.connect() as conn:
        rows = conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname LIKE %s ORDER BY datname",
            (prefix + "%",),
        ).fetchall()
    marks = {name: read_mark(note) for name, note in rows}
    return {name: mark[0] for name, mark in marks.items() if mark}


def require_owned(server: Server, name: str) -> str:
    kind = ownership(server, name)
    if kind is None:
        raise NotOurDatabase(
            f"database {name!r} was not created by migration-rehearsal; "
            "refusing to write to it (use a name the tool made, or let it create one)"
        )
    return kind


def create(server: Server, name: str, kind: str, template: str | None = None) -> None:
    """Create and mark a database; refuse a name that already exists and is not ours."""
    if exists(server, name):
        require_owned(server, name)
        raise BadInput(f"database {name!r} already exists; drop it first")
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        # FILE_COPY copies the files (fast for large templates); it exists from PostgreSQL 15 on.
        strategy = sql.SQL(" STRATEGY FILE_COPY") if server.version_num >= 150000 else sql.SQL("")
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
            sql.Identifier(name), sql.Identifier(template), strategy
        )
    with server.connect() as conn:
        conn.execute(query)
        _open.add((server.dsn, name))
        set_mark(conn, name, kind)


def set_mark(conn: psycopg.Connection, name: str, kind: str) -> None:
    conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(mark_text(kind))))


def rename(server: Server, old: str, new: str, kind: str) -> None:
    require_owned(server, old)
    with server.connect() as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(new)))
        set_mark(conn, new, kind)
    _open.discard((server.dsn, old))  # renamed to a template or a kept copy: made to stay


def drop(server: Server, name: str) -> None:
    """Drop a database we own, ending its sessions first; a missing one is fine, a foreign one refused."""
    if exists(server, name):
        require_owned(server, name)
        with server.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    _open.discard((server.dsn, name))


@contextlib.contextmanager
def clone(server: Server, template: str, name: str | None = None) -> Iterator[str]:
    """A scratch copy of `template`, dropped on exit (also on error or Ctrl-C)."""
    require_owned(server, template)
    name = name or f"rehearsal_scratch_{secrets.token_hex(4)}"
    create(server, name, "scratch", template=template)
    try:
        yield name
    except BaseException:
        # The server may be gone (that is often why we are here): then the error that brought us here is
        # the one to report, and the next run or `rehearse clean` drops the copy (see left_behind()).
        with contextlib.suppress(psycopg.OperationalError):
            drop(server, name)
        raise
    drop(server, name)
