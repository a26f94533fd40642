"""Which process made a database: written into its mark, read back to tell a live rehearsal's copy from a leftover.

The mark (a database comment, see dbserver.databases) says `… : scratch (pid 4242 on host-a at
2025-01-31T12:00:00+00:00)`. On the machine that wrote it, psutil answers whether that process still runs
(a PID reused by a later process does not count: it started after the database was made). From another
machine, or from a mark written before owners were recorded, the answer is "unknown".
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

import psutil

_OWNER = re.compile(r" \(pid (?P<pid>\d+) on (?P<host>\S+) at (?P<at>[^)]+)\)$")


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    at: datetime

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host} at {self.at.isoformat(timespec='seconds')}"


def me() -> Owner:
    return Owner(os.getpid(), socket.gethostname(), datetime.now(UTC))


def stamp() -> str:
    """What a new mark appends after the kind."""
    return f" ({me()})"


def split(rest: str) -> tuple[str, Owner | None]:
    """A mark's text after 'created by migration-rehearsal: ' → (kind, owner or None)."""
    found = _OWNER.search(rest)
    if not found:
        return rest, None
    try:
        at = datetime.fromisoformat(found["at"])
    except ValueError:
        return rest[: found.start()], None
    return rest[: found.start()], Owner(int(found["pid"]), found["host"], at)


def alive(owner: Owner | None) -> bool | None:
    """True while the owning process runs, False once it is gone, None when this machine cannot tell."""
    if owner is None or owner.host != socket.gethostname():
        return None
    try:
        started = psutil.Process(owner.pid).create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return None
    return started <= owner.at.timestamp() + 1  # a later process with the same PID is not the owner
