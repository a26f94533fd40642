"""Warm spares: the next rehearsal's clone, copied in the background while the user reads this one's report.

A spare is `<template>__warm_<version>`, marked `warm`, with ALLOW_CONNECTIONS false (autovacuum and users
stay out, so nothing can write to it and the rename that takes it never finds a session in it). Its version
digests the template's OID and mark: a rebuilt template has new ones, so a spare of the old template matches
nothing, is never taken and goes with the leftovers (dbserver.leftovers). A rehearsal takes its spare with
one transaction (rename, allow connections, mark `scratch`): atomic, so two rehearsals never share one.

A detached process (dbserver.warm_make) makes the spare under the exclusive
advisory lock MAKING; every rehearsal holds it shared while it clones and measures (see quiet). So a copy
never runs under a measurement: a rehearsal of the same template waits for its spare, a rehearsal of another
template cancels the copy (CREATE DATABASE cancelled removes its files).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator

import psycopg
from psycopg import sql

from dbserver import databases
from dbserver.server import Server

KIND = "warm"
SUFFIX = "__warm_"
MAKING = 0x7265_6877_6172_6D  # the advisory lock key ("rehwarm"): held exclusive by a maker, shared by a rehearsal
MAKER_APP = "rehearsal-warm:"  # + the version of the template the maker copies


def version(server: Server, template: str) -> str | None:
    """The template's version: a digest of its OID and its mark (both change when it is rebuilt)."""
    with server.connect() as conn:
        row = conn.execute(
            "SELECT oid, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
    return hashlib.sha1(f"{row[0]}:{row[1]}".encode()).hexdigest()[:8] if row else None


def spare_name(template: str, ver: str) -> str:
    """`<template>__warm_<version>`, the template's part cut so the whole fits PostgreSQL's 63 bytes."""
    return template[: 63 - len(SUFFIX) - len(ver)] + SUFFIX + ver


def spares(server: Server) -> list[str]:
    """Every warm spare on the server."""
    return sorted(name for name, kind in databases.list_owned(server).items() if kind == KIND)


def stale(server: Server) -> set[str]:
    """Spares whose version matches no template now (their template was rebuilt or dropped)."""
    owned = databases.list_owned(server)
    current = {spare_name(name, version(server, name) or "") for name, kind in owned.items() if kind == "template"}
    return {name for name, kind in owned.items() if kind == KIND and name not in current}


@contextlib.contextmanager
def quiet(server: Server, template: str) -> Iterator[float]:
    """No spare is copied while this is open: copies for other templates are cancelled, this template's
    awaited; yields the seconds waited."""
    clock = time.monotonic()
    ver = version(server, template)
    with server.connect() as conn:
        conn.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name LIKE %s "
            "AND application_name <> %s",
            (MAKER_APP + "%", MAKER_APP + str(ver)),
        )
        conn.execute("SELECT pg_advisory_lock_shared(%s)", (MAKING,))
        try:
            yield time.monotonic() - clock
        finally:
            with contextlib.suppress(psycopg.OperationalError):  # server gone: the lock went with it
                conn.execute("SELECT pg_advisory_unlock_shared(%s)", (MAKING,))


def ready(server: Server, template: str) -> bool:
    """Whether the spare of the template's current version is there to be taken."""
    ver = version(server, template)
    return bool(ver) and databases.ownership(server, spare_name(template, ver)) == KIND


def take(server: Server, template: str, name: str) -> bool:
    """Rename this template version's spare to `name`, a scratch copy now; False when there is none."""
    ver = version(server, template)
    spare = spare_name(template, ver) if ver else None
    if spare is None or databases.ownership(server, spare) != KIND:
        return False
    try:
        with server.connect() as conn, conn.transaction():
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(spare), sql.Identifier(name)))
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
            databases.set_mark(conn, name, "scratch")
    except (psycopg.errors.UndefinedDatabase, psycopg.errors.ObjectInUse):
        return False  # another rehearsal took it first
    databases.track(server, name)
    return True


@contextlib.contextmanager
def clone(server: Server, template: str, name: str, warm: bool = True) -> Iterator[tuple[str, bool]]:
    """databases.clone, starting from the template's spare when there is one: (name, taken from a spare)."""
    if warm and take(server, template, name):
        with databases.dropped_on_exit(server, name):
            yield name, True
        return
    with databases.clone(server, template, name=name) as scratch:
        yield scratch, False
