"""A server that went away mid-command: one line naming it and the fix, not a traceback per thread."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

from common.errors import ServerUnavailable
from dbserver.server import Server


def reachable(server: Server) -> bool:
    try:
        with psycopg.connect(server.dsn, autocommit=True, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextlib.contextmanager
def one_line_if_lost(server: Server, during: str) -> Iterator[None]:
    """Inside, any error raised while the server is unreachable becomes ServerUnavailable (CLI: exit 2).

    When the server dies, every part fails its own way (the executor's statement, the sampler's pipe, the
    scratch copy's cleanup); asking the server once tells the real cause.
    """
    try:
        yield
    except ServerUnavailable:
        raise
    except Exception as exc:
        if reachable(server):
            raise
        raise ServerUnavailable(
            f"the PostgreSQL server went away {during} ({server.display}); start it again (`rehearse server "
            "start`, or the server behind --dsn) and run again: its leftovers are dropped then, or by "
            "`rehearse clean`"
        ) from exc
