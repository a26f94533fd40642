"""Making a warm spare (see dbserver.warm) in a detached process, so neither the CLI nor a notebook waits for it.

`prepare` starts `python -m dbserver.warm_make TEMPLATE` in its own session: it outlives a `rehearse run`
that has printed its report, and Ctrl-C in the user's terminal does not reach it. The server's URL reaches
it by environment (a command line is visible to every user of the machine). It writes one line per spare to
data/warm.log and never raises to the user: a spare not made only means the next rehearsal clones cold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from common.paths import data_dir, project_root
from dbserver import databases, embedded, warm
from dbserver.dsn import mask_text
from dbserver.server import Server

_DSN_ENV = "REHEARSAL_WARM_DSN"
_EMBEDDED_ENV = "REHEARSAL_WARM_EMBEDDED"


def data_directory(server: Server) -> Path | None:
    """The server's data directory when it is on this machine (its free disk can be read), else None."""
    if server.embedded:
        return embedded.pgdata()
    if server.postmaster_pid() is None:
        return None
    with server.connect() as conn:
        return Path(conn.execute("SELECT current_setting('data_directory')").fetchone()[0])


MARGIN = 20  # the disk's share that always stays free (1/20: ext4's own reserve), for its other users


def no_room(server: Server, template: str) -> str | None:
    """Why a spare of `template` must not be made now (None: it may). The spare is the next rehearsal's
    copy made early, so what must stay free after it is what that rehearsal adds beyond its copy: two more
    copies (its rollback check, a preflight) and the WAL it may write before a checkpoint recycles it
    (max_wal_size less the WAL already on disk), and never less than a twentieth of the disk. (A tenth of
    the disk, the rule before, kept 27 GB free on this 270 GB disk for WAL that could grow by 10 GB more,
    and would keep 200 GB free on a 2 TB one.)"""
    path = data_directory(server)
    if path is None:
        return "the server's disk is not visible from here"
    with server.connect() as conn:
        size = conn.execute("SELECT pg_database_size(%s)", (template,)).fetchone()[0]
        wal = _wal_headroom(conn)
    usage = shutil.disk_usage(path)
    keep = 2 * size + max(wal, usage.total // MARGIN)
    if usage.free - size < keep:
        return f"{usage.free / 1e9:.1f} GB free, a spare needs {size / 1e9:.1f} GB and {keep / 1e9:.1f} GB stay free"
    return None


def _wal_headroom(conn) -> int:
    """Bytes the WAL may still grow by before checkpoints recycle it: max_wal_size less what pg_wal holds
    (all of max_wal_size where the directory cannot be listed)."""
    limit = "pg_size_bytes(current_setting('max_wal_size'))"
    try:
        with conn.transaction():
            return int(conn.execute(f"SELECT greatest({limit} - sum(size), 0) FROM pg_ls_waldir()").fetchone()[0])
    except psycopg.Error:
        return int(conn.execute(f"SELECT {limit}").fetchone()[0])


def prepare(server: Server, template: str) -> subprocess.Popen | None:
    """Start making the next spare of `template` in the background; None when its disk is not visible."""
    if data_directory(server) is None:
        return None  # a remote server: its free disk is unknown, and filling it is never worth a faster start
    env = os.environ | {_DSN_ENV: server.dsn, _EMBEDDED_ENV: "1" if server.embedded else ""}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project_root()), os.environ.get("PYTHONPATH")]))
    data_dir().mkdir(parents=True, exist_ok=True)
    with open(data_dir() / "warm.log", "a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dbserver.warm_make", template],
            env=env,
            cwd=project_root(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def make(server: Server, template: str) -> str:
    """Make the spare of `template`'s current version, unless it exists or there is no room: what happened."""
    for name in warm.stale(server):
        databases.drop(server, name)
    ver = warm.version(server, template)
    if ver is None or databases.ownership(server, template) != "template":
        return f"no spare: {template} is not a template"
    spare = warm.spare_name(template, ver)
    with server.connect(application_name=warm.MAKER_APP + ver) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (warm.MAKING,))  # after the running rehearsals
        if databases.exists(server, spare):
            return f"{spare} is ready"
        reason = no_room(server, template)
        if reason:
            return f"no spare of {template}: {reason}"
        databases.copy(conn, spare, template, server.version_num, allow_connections=False)
        databases.set_mark(conn, spare, warm.KIND)
    if warm.version(server, template) != ver:  # rebuilt while copying: the copy may be of either
        databases.drop(server, spare)
        return f"no spare: {template} was rebuilt while it was copied"
    return f"{spare} made"


def main(argv: list[str]) -> int:
    server = Server(dsn=os.environ.pop(_DSN_ENV), embedded=bool(os.environ.get(_EMBEDDED_ENV)))
    try:
        print(make(server, argv[0]), flush=True)
    except psycopg.errors.QueryCanceled:
        print(f"no spare of {argv[0]}: a rehearsal of another template started", flush=True)
    except psycopg.Error as exc:
        print(f"no spare of {argv[0]}: {mask_text(str(exc).splitlines()[0])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
