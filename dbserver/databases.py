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
_NO_CLONE: set[str] = set()  # servers whose filesystem refused file_copy_method = clone


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
    with server.connect() as conn:
        if template:
            copy(conn, name, template, server.version_num)
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        track(server, name)
        set_mark(conn, name, kind)


def copy(conn: psycopg.Connection, name: str, template: str, version_num: int, allow_connections: bool = True) -> None:
    """CREATE DATABASE `name` as a file copy of `template`. FILE_COPY (PostgreSQL 15+) copies the files, fast
    for large templates; from 18 on `file_copy_method = clone` lets the kernel copy them (copy_file_range: a
    reflink on XFS or Btrfs, an in-kernel copy elsewhere), with the plain copy as the fallback."""
    query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    if version_num >= 150000:
        query += sql.SQL(" STRATEGY FILE_COPY")
    if not allow_connections:
        query += sql.SQL(" ALLOW_CONNECTIONS false")
    if version_num >= 180000 and conn.info.dsn not in _NO_CLONE:
        try:
            _cloned(conn, query)
            return
        except psycopg.Error as exc:
            if "clone" not in str(exc):
                raise
            _NO_CLONE.add(conn.info.dsn)  # the server or its filesystem cannot: copy, from now on
    conn.execute(query)


def _cloned(conn: psycopg.Connection, query: sql.Composable) -> None:
    """`query` under file_copy_method = clone (an error naming "clone" when it cannot)."""
    conn.execute("SET file_copy_method = clone")
    try:
        conn.execute(query)
    finally:
        with contextlib.suppress(psycopg.OperationalError):
            conn.execute("RESET file_copy_method")


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


def track(server: Server, name: str) -> None:
    """`name` is this process's to drop (see left_behind)."""
    _open.add((server.dsn, name))


@contextlib.contextmanager
def dropped_on_exit(server: Server, name: str) -> Iterator[str]:
    """Drop the scratch database `name` on exit (also on error or Ctrl-C)."""
    try:
        yield name
    except BaseException:
        # The server may be gone (that is often why we are here): then the error that brought us here is
        # the one to report, and the next run or `rehearse clean` drops the copy (see left_behind()).
        with contextlib.suppress(psycopg.OperationalError):
            drop(server, name)
        raise
    drop(server, name)


@contextlib.contextmanager
def clone(server: Server, template: str, name: str | None = None) -> Iterator[str]:
    """A scratch copy of `template`, dropped on exit (also on error or Ctrl-C)."""
    require_owned(server, template)
    name = name or f"rehearsal_scratch_{secrets.token_hex(4)}"
    create(server, name, "scratch", template=template)
    with dropped_on_exit(server, name):
        yield name
