"""The --setup SQL file: read before anything runs, executed on the scratch copy before traffic (not measured)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from common.errors import BadInput


def read_setup(setup: str | None) -> str | None:
    if setup is None:
        return None
    path = Path(setup)
    if not path.is_file():
        raise BadInput(f"setup file {setup} not found; give --setup an existing .sql file")
    return path.read_text()


def run_setup(server, scratch: str, sql_text: str, source: str) -> None:
    try:
        with server.connect(scratch) as conn:
            conn.execute(sql_text)
    except psycopg.Error as exc:
        raise BadInput(f"setup file {source} failed: {str(exc).splitlines()[0]}; fix it and run again") from None
