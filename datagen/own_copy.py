"""A template that is a copy of the user's own database (staging, a restored backup, a branch): only read.

`CREATE DATABASE copy TEMPLATE source` copies the files and needs no one else connected to the source
(PostgreSQL refuses with 55006 otherwise); a source in use is copied by the embedded `pg_dump | pg_restore`
instead, which reads it in one repeatable-read transaction. Neither writes to the source. The copy is
taken afresh for every rehearsal, so it shows the source as it is now, and is marked as the tool's own.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

import dbserver
from common.errors import BadInput
from datagen import manifest as base_manifest
from datagen import names
from datagen.template import Dataset, _checkpoint, _lock
from dbserver import embedded

GENERATOR_VERSION = "copy-1"
META = "CREATE SCHEMA rehearsal_meta; CREATE TABLE rehearsal_meta.manifest (id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), manifest jsonb NOT NULL)"
TABLES = """
SELECT n.nspname || '.' || c.relname, greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'rehearsal_meta')
  AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1
"""


def copy_name(source: str) -> str:
    safe = re.sub(r"[^a-z0-9]+", "_", source.lower())[:20]
    return f"{names.PREFIX}copy_{safe}_{hashlib.sha1(source.encode()).hexdigest()[:8]}"


def build_copy(server: dbserver.Server, source: str) -> Dataset:
    """A fresh template copied from the database `source` on `server`, marked as ours; the source is
    only read. A missing source, or one the tool made itself, is refused in one line."""
    _check_source(server, source)
    name = copy_name(source)
    with _lock(server, name):
        building = names.building_name(name)
        dbserver.drop(server, name)
        dbserver.drop(server, building)
        try:
            method = _copy(server, source, building)
            with server.connect(building) as conn:
                conn.execute("ANALYZE")  # row counts for the extrapolation, on the copy, never the source
                conn.execute(META)
                result = _manifest(server, conn, name, source, method)
                conn.execute("INSERT INTO rehearsal_meta.manifest (manifest) VALUES (%s)", (Jsonb(result),))
        except BaseException:
            dbserver.drop(server, building)
            raise
        _checkpoint(server)
        dbserver.rename(server, building, name, "template")
        return Dataset(name, server, result)


def _check_source(server: dbserver.Server, source: str) -> None:
    if not source or not dbserver.exists(server, source):
        raise BadInput(
            f"--from-database {source!r}: no such database on {server.display}; give the name of an existing "
            "database on that server (see \\l in psql)"
        )
    if dbserver.ownership(server, source) is not None:
        raise BadInput(
            f"--from-database {source!r} is a database migration-rehearsal made itself; give the user's own "
            "database (staging, a restored backup), or rehearse on the built-in dataset or a --profile"
        )


def _copy(server: dbserver.Server, source: str, target: str) -> str:
    """'template' when CREATE DATABASE … TEMPLATE could copy the files, 'pg_dump' when the source is in use."""
    try:
        dbserver.create(server, target, "building", template=source)
        return "template"
    except psycopg.errors.ObjectInUse:  # 55006: other sessions are connected to the source
        dbserver.create(server, target, "building")
    _dump_restore(server, source, target)
    return "pg_dump"


def _dump_restore(server: dbserver.Server, source: str, target: str) -> None:
    dump = subprocess.Popen(
        [str(embedded.tool("pg_dump")), "--format=custom", "--no-owner", "--no-privileges", "-d", server.url(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    restore = subprocess.run(
        [
            str(embedded.tool("pg_restore")),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            server.url(target),
        ],
        stdin=dump.stdout,
        capture_output=True,
        text=True,
    )
    dump.stdout.close()
    dump_err = dump.stderr.read().decode(errors="replace")
    if dump.wait() != 0 or restore.returncode != 0:
        detail = (dump_err or restore.stderr).strip().splitlines() or ["?"]
        for url in (server.url(source), server.url(target)):  # never print a password
            detail[-1] = detail[-1].replace(url, dbserver.mask(url))
        raise BadInput(
            f"copying {source!r} with pg_dump | pg_restore failed: {detail[-1]}; "
            "close the sessions on it to copy it with CREATE DATABASE … TEMPLATE, or check the user's rights"
        )


def _manifest(server, conn, name: str, source: str, method: str) -> dict:
    tables = conn.execute(TABLES).fetchall()
    return {
        "name": name,
        "kind": "copy",
        "source": source,
        "method": method,
        "scale": 1.0,
        "seed": None,
        "rows": {t: int(rows) for t, rows, _ in tables},
        "table_bytes": {t: int(size) for t, _, size in tables},
        "database_bytes": int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]),
        "dirt_achieved": {},
        "generator_version": GENERATOR_VERSION,
        "versions": base_manifest.versions(server) | {"generator": GENERATOR_VERSION},
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
