"""Which SQL makes a migration: .sql files (one, up/down, Flyway), a Liquibase changelog, an Alembic project.

The format is found by content and layout: a .sql file whose first line is `--liquibase formatted sql` is a
Liquibase changelog (`liquibase.py`); a folder holding `alembic.ini`, or `env.py` and `versions/`, is an
Alembic project (`alembic.py`); anything else is plain SQL files (`files.py`). Each reader returns a Layout
of Scripts (`rehearse/sql/script.py`).
"""

from __future__ import annotations

from pathlib import Path

from common.errors import BadInput
from rehearse.sql.readers import alembic, files, liquibase
from rehearse.sql.script import Layout, read


def locate(path: str | Path, revisions: tuple[str | None, str | None] | None = None) -> Layout:
    """Find the files of the migration at `path`; BadInput when there are none or they are inconsistent.
    `revisions`: (from, to) of an Alembic project, None ends meaning base and head."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: no such file or folder; give a .sql file or a migration folder")
    if path.is_file():
        return _single_file(files.sql_file(path))
    if is_alembic(path):
        return alembic.layout(path, *(revisions or ()))
    up, versioned = path / "up.sql", files.versioned_files(path)
    if up.is_file() and versioned:
        raise BadInput(f"{path}: has both up.sql and Flyway V…__….sql files; keep one layout per folder")
    if up.is_file():
        down = path / "down.sql"
        return Layout(path.name, files.scripts(up), files.scripts(down) if down.is_file() else ())
    if versioned:
        return files.flyway(path, versioned)
    raise BadInput(f"{path}: no migration found{files.misnamed(path)}; expected {files.EXPECTED}")


def _single_file(path: Path) -> Layout:
    text = read(path)
    if liquibase.is_changelog(text):
        return liquibase.layout(path, text)
    return files.single_file(path, text)


def is_alembic(folder: Path) -> bool:
    return (folder / "alembic.ini").is_file() or (folder / "env.py").is_file() and (folder / "versions").is_dir()
