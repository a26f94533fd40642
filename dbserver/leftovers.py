"""Leftovers: scratch and half-built databases that no live rehearsal uses, listed and dropped.

A database is a leftover when it carries our mark with kind `scratch` or `building` and either the
process that made it is gone (known on the machine that made it, see dbserver.owners), or nobody can tell
who made it (another machine, an older mark) and it has no session. Templates and kept copies
(`rehearsal_kept_…`) are never leftovers, and a database without our mark is never looked at. A warm
spare (dbserver.warm) outlives the process that made it by design: it is a leftover once its template was
rebuilt or dropped (stale), and every spare is one for `rehearse clean` (`spares=True`), which frees its disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dbserver import owners, warm
from dbserver.databases import drop, read_mark
from dbserver.server import Server

CLEANABLE = ("scratch", "building")
_QUERY = """
SELECT d.datname, shobj_description(d.oid, 'pg_database'),
       (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid AND a.pid <> pg_backend_pid())
FROM pg_database d ORDER BY d.datname
"""


@dataclass(frozen=True)
class Leftover:
    name: str
    kind: str
    owner: owners.Owner | None
    sessions: int
    why: str

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}): {self.why}"


def find(server: Server, older_than: timedelta | None = None, spares: bool = False) -> list[Leftover]:
    """Every leftover on `server`; with `older_than`, those of unknown owner only past that age; with
    `spares`, every warm spare (else only the stale ones)."""
    with server.connect() as conn:
        rows = conn.execute(_QUERY).fetchall()
    stale = warm.stale(server)
    found = []
    for name, note, sessions in rows:
        mark = read_mark(note)
        why = None
        if mark and mark[0] == warm.KIND and (spares or name in stale):
            why = "a spare of a template since rebuilt or dropped" if name in stale else "a warm spare, its disk freed"
        elif mark and mark[0] in CLEANABLE:
            why = _why(mark[1], sessions, older_than)
        if why:
            found.append(Leftover(name, mark[0], mark[1], sessions, why))
    return found


def _why(owner: owners.Owner | None, sessions: int, older_than: timedelta | None) -> str | None:
    """Why the database is a leftover, or None while a live rehearsal may use it."""
    state = owners.alive(owner)
    if state:
        return None
    if state is False:
        return f"made by {owner}, which has ended"
    if sessions:
        return None
    if older_than is not None and owner is not None and datetime.now(UTC) - owner.at < older_than:
        return None
    return f"made by {owner or 'an unknown process'}, no session uses it"


def clean(
    server: Server, dry_run: bool = False, older_than: timedelta | None = None, spares: bool = False
) -> list[Leftover]:
    """Drop every leftover (none with `dry_run`) and return them."""
    found = find(server, older_than, spares)
    if not dry_run:
        for leftover in found:
            drop(server, leftover.name)
    return found
