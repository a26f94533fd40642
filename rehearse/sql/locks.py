"""Table-level lock modes: what each one conflicts with, and which ones a statement is expected to take."""

from __future__ import annotations

from collections.abc import Iterable

# Weakest to strongest, in PostgreSQL's own numbering (lockdefs.h, 1..8): "strongest" means the highest
# number, which is how ALTER TABLE picks one mode for all its subcommands.
MODES: tuple[str, ...] = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)

# The docs' table "Conflicting Lock Modes" (Explicit Locking, 13.3.1), row by row.
_CONFLICT_ROWS: dict[str, tuple[str, ...]] = {
    "AccessShareLock": ("AccessExclusiveLock",),
    "RowShareLock": ("ExclusiveLock", "AccessExclusiveLock"),
    "RowExclusiveLock": ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"),
    "ShareUpdateExclusiveLock": (
        "ShareUpdateExclusiveLock",
        "ShareLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    ),
    "ShareLock": (
        "RowExclusiveLock",
        "ShareUpdateExclusiveLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    ),
    "ShareRowExclusiveLock": (
        "RowExclusiveLock",
        "ShareUpdateExclusiveLock",
        "ShareLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    ),
    "ExclusiveLock": MODES[1:],
    "AccessExclusiveLock": MODES,
}
CONFLICTS: dict[str, frozenset[str]] = {mode: frozenset(row) for mode, row in _CONFLICT_ROWS.items()}


def rank(mode: str, unknown: int | None = None) -> int:
    """PostgreSQL's number for a mode (1 = AccessShareLock … 8 = AccessExclusiveLock); a mode not in the
    table (SIReadLock, a missing value) gives `unknown` when one is given, else ValueError."""
    try:
        return MODES.index(mode) + 1
    except ValueError:
        if unknown is not None:
            return unknown
        raise ValueError(f"unknown lock mode {mode!r}; expected one of {', '.join(MODES)}") from None


def strongest(modes: Iterable[str]) -> str | None:
    """The strongest of the given modes, or None when there are none."""
    return max(modes, key=rank, default=None)


def conflicts(a: str, b: str) -> bool:
    """Whether a lock in mode `a` and one in mode `b` on the same table wait for each other."""
    if "SIReadLock" in (a, b):  # pg_locks also lists SERIALIZABLE predicate locks: they block nothing
        return False
    for mode in (a, b):
        rank(mode)  # any other unknown name is a bug upstream: say so rather than answer False
    return b in CONFLICTS[a]


def blocks_reads(mode: str) -> bool:
    """Whether holding `mode` makes plain SELECTs on the table wait."""
    return conflicts(mode, "AccessShareLock")


def blocks_writes(mode: str) -> bool:
    """Whether holding `mode` makes INSERT/UPDATE/DELETE on the table wait."""
    return conflicts(mode, "RowExclusiveLock")
