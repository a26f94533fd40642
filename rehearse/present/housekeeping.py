"""What the console says about databases left behind: after an interrupt, by `rehearse clean`, by a run."""

from __future__ import annotations

from common.signals import Terminated
from dbserver import left_behind


def interrupted(exc: KeyboardInterrupt) -> str:
    """The FAILED line of an interrupted command; it names what was left behind only when it is so (the
    server may have been gone and the drop impossible)."""
    how = f"stopped by {exc.name}" if isinstance(exc, Terminated) else "interrupted"
    left = left_behind()
    if left:
        return f"{how}; left behind {', '.join(left)}: `rehearse clean` drops them once the server is up"
    return f"{how}; nothing was left behind (scratch and half-built databases were dropped)"


def print_leftovers(found: list, dry_run: bool, server: str) -> None:
    """`rehearse clean`: one line per leftover database, then what was done."""
    for leftover in found:
        print(f"{'would drop' if dry_run else 'dropped'} {leftover}")
    verb = "to drop (--dry-run: nothing dropped)" if dry_run else "dropped"
    print(f"{len(found)} leftover database(s) {verb} on {server}")


def print_dropped_at_start(names: list[str]) -> None:
    """`rehearse run` cleans leftovers before it starts (see dbserver.leftovers); it says which."""
    for name in names:
        print(f"dropped leftover {name}")
