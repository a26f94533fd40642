"""What every migration reader produces: a Script (SQL split and grouped as one whole) and a Layout (up and down)."""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from common.errors import BadInput

DEFAULT_MAX_MB = 100.0  # RehearsalConfig.max_migration_mb: refuse a bigger file before reading it
_max_mb = contextvars.ContextVar("max_migration_mb", default=DEFAULT_MAX_MB)


@dataclass(frozen=True)
class Script:
    """SQL split and grouped as one whole: a file, a Liquibase changeset, or Alembic's offline output.

    `text` keeps the file's line numbers (lines outside the piece are blank), so statements and syntax
    errors point into the file. `autocommit` None means "as the file's header says" (the
    `-- rehearse:no-transaction` directive); True runs every statement outside BEGIN…COMMIT on its own,
    False groups them into one implicit transaction. `origins` re-attributes statements by line:
    (first line in text, source, line shown), e.g. Alembic's output to the revision that emitted it.
    """

    text: str
    source: str
    autocommit: bool | None = None
    origins: tuple[tuple[int, str, int], ...] = ()

    def origin(self, line: int) -> tuple[str, int]:
        """Where the statement starting at `line` of `text` comes from: (source, line)."""
        found = [(source, shown) for first, source, shown in self.origins if first <= line]
        return found[-1] if found else (self.source, line)


@dataclass(frozen=True)
class Layout:
    """A migration's SQL: up in execution order, down (the rollback) in execution order, maybe none.

    `notes` say what the reader had to assume or could not rehearse (a Liquibase changeset with no
    rollback, Alembic's version bookkeeping); `down_notes` are about the rollback found beside it.
    """

    name: str
    up: tuple[Script, ...]
    down: tuple[Script, ...]
    notes: tuple[str, ...] = ()
    down_notes: tuple[str, ...] = ()


@contextlib.contextmanager
def size_limit(max_mb: float | None) -> Iterator[None]:
    """While inside, read() refuses files over `max_mb` MB (None: the default, DEFAULT_MAX_MB)."""
    token = _max_mb.set(DEFAULT_MAX_MB if max_mb is None else max_mb)
    try:
        yield
    finally:
        _max_mb.reset(token)


def read(path: Path) -> str:
    """A SQL file's text; BadInput when it cannot be read, or is over the size limit (checked first)."""
    _check_size(path)
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: a BOM left by an editor is not SQL
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read ({exc}); save it as UTF-8 text") from None


def _check_size(path: Path) -> None:
    limit = _max_mb.get()
    try:
        size_mb = path.stat().st_size / 1e6
    except OSError:
        return  # read() says why it cannot be read
    if size_mb > limit:
        raise BadInput(
            f"{path}: {size_mb:.1f} MB is over the {limit:g} MB limit for a migration file; raise it with "
            f"--max-migration-mb {math.ceil(size_mb)} (max_migration_mb) if the file is right"
        )
