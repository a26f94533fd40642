"""The server's own log file, where this tool started the server and so knows where it writes.

The embedded and the --postgres-bin servers are started with their stderr in `<data directory>/log`
(`pg_ctl -l`; `logging_collector` off), so a backend's LOG line is in that file the moment the backend has
written it, before its statement returns. A --dsn server's log is not ours to read: None there.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

from common.paths import data_dir
from dbserver import embedded
from dbserver.server import Server

_LOCAL = re.compile(r"postgres-\d+")  # dbserver.local's data directories: data/postgres-<major>


def log_file(server: Server) -> Path | None:
    """The file the server writes its log to, when this tool started it and the file can be read; else None."""
    try:
        with server.connect() as conn:
            directory = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
            collector = conn.execute("SELECT current_setting('logging_collector')").fetchone()[0]
    except psycopg.Error:  # data_directory is readable only by superusers and pg_read_all_settings
        return None
    directory = Path(directory).resolve()
    ours = directory == embedded.pgdata().resolve() or (
        directory.parent == data_dir() and _LOCAL.fullmatch(directory.name) is not None
    )
    path = directory / "log"
    if not ours or collector == "on" or not path.is_file():
        return None
    try:
        with path.open("rb"):
            return path
    except OSError:
        return None
