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
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise BadInput(f"setup file {setup} is not UTF-8 text (byte {exc.start}); give --setup a SQL file") from None
    if "\0" in text:
        raise BadInput(f"setup file {setup} holds NUL bytes, so it is not SQL text; give --setup a SQL file")
    return text


def run_setup(server, scratch: str, sql_text: str, source: str) -> None:
    try:
        with server.connect(scratch) as conn:
            conn.execute(sql_text)
    except psycopg.Error as exc:
        raise BadInput(f"setup file {source} failed: {str(exc).splitlines()[0]}; fix it and run again") from None
