"""What every migration reader produces: a Script (SQL split and grouped as one whole) and a Layout (up and down)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.errors import BadInput


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


def read(path: Path) -> str:
    """A SQL file's text; BadInput when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: a BOM left by an editor is not SQL
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read ({exc}); save it as UTF-8 text") from None
