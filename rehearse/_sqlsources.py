"""Which SQL makes a migration: .sql files (one, up/down, Flyway), a Liquibase changelog, an Alembic project.

The format is found by content and layout: a .sql file whose first line is `--liquibase formatted sql` is a
Liquibase changelog (rehearse/_liquibase.py); a folder holding `alembic.ini`, or `env.py` and `versions/`,
is an Alembic project (rehearse/_alembic.py); anything else is plain SQL files, read as below.

Flyway folders hold `V<version>__<description>.sql` files, applied in version order (numeric parts,
dotted or underscored: V1.2 = V1_2, and V1 = V1.0); major versions must be consecutive and unique.
`U<version>__….sql` undo files make the rollback, newest version first. `R__<description>.sql`
repeatables run after all versioned files, sorted by description, as Flyway does. Other files are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dbserver.errors import BadInput

_VERSIONED = re.compile(r"(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.sql")
_REPEATABLE = re.compile(r"R__(?P<description>.+)\.sql")
_EXPECTED = ("up.sql (optionally with down.sql), Flyway files named V<version>__<description>.sql, "
             "or an Alembic project (alembic.ini, or env.py and versions/)")


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


def locate(path: str | Path) -> Layout:
    """Find the files of the migration at `path`; BadInput when there are none or they are inconsistent."""
    path = Path(path)
    if not path.exists():
        raise BadInput(f"{path}: no such file or folder; give a .sql file or a migration folder")
    if path.is_file():
        return _single_file(_sql_file(path))
    if _is_alembic(path):
        from . import _alembic  # imported here: it imports this module
        return _alembic.layout(path)
    up, versioned = path / "up.sql", _versioned_files(path)
    if up.is_file() and versioned:
        raise BadInput(f"{path}: has both up.sql and Flyway V…__….sql files; keep one layout per folder")
    if up.is_file():
        down = path / "down.sql"
        return Layout(path.name, _scripts(up), _scripts(down) if down.is_file() else ())
    if versioned:
        return _flyway(path, versioned)
    raise BadInput(f"{path}: no migration found; expected {_EXPECTED}")


def read(path: Path) -> str:
    """A SQL file's text; BadInput when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")  # -sig: a BOM left by an editor is not SQL
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read ({exc}); save it as UTF-8 text") from None


def _scripts(*paths: Path) -> tuple[Script, ...]:
    return tuple(Script(read(p), str(p)) for p in paths)


def _single_file(path: Path) -> Layout:
    from . import _liquibase  # imported here: it imports this module

    text = read(path)
    if _liquibase.is_changelog(text):
        return _liquibase.layout(path, text)
    return Layout(path.stem, (Script(text, str(path)),), ())


def _is_alembic(folder: Path) -> bool:
    return (folder / "alembic.ini").is_file() or (folder / "env.py").is_file() and (folder / "versions").is_dir()


def _sql_file(path: Path) -> Path:
    if path.suffix.lower() != ".sql":
        raise BadInput(f"{path}: not a .sql file; give a .sql file or a folder with {_EXPECTED}")
    return path


def _versioned_files(folder: Path) -> dict[str, list[tuple[tuple[int, ...], Path]]]:
    """{'V': [(version, path)], 'U': [...]} for the Flyway-named files of a folder."""
    found: dict[str, list] = {"V": [], "U": []}
    for path in sorted(folder.iterdir()):
        match = _VERSIONED.fullmatch(path.name)
        if match and path.is_file():
            found[match["prefix"]].append((_version(match["version"]), path))
    return found if found["V"] or found["U"] else {}


def _version(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:  # Flyway treats 1.0 and 1 as the same version
        parts.pop()
    return tuple(parts)


def _flyway(folder: Path, files: dict) -> Layout:
    if not files["V"]:
        raise BadInput(f"{folder}: has undo (U…) files but no versioned V…__….sql files; expected {_EXPECTED}")
    versioned = sorted(files["V"])
    _check_versions(folder, versioned)
    known = {v for v, _ in versioned}
    for version, path in files["U"]:
        if version not in known:
            raise BadInput(f"{path}: undoes version {_show(version)}, which has no V file in {folder}")
    undo = [p for _, p in sorted(files["U"], reverse=True)]
    return Layout(folder.name, _scripts(*(p for _, p in versioned), *_repeatables(folder)), _scripts(*undo))


def _check_versions(folder: Path, versioned: list) -> None:
    for (v1, p1), (v2, p2) in zip(versioned, versioned[1:]):
        if v1 == v2:
            raise BadInput(f"{folder}: version {_show(v1)} appears twice ({p1.name}, {p2.name}); "
                           "give each migration its own version")
        if v2[0] > v1[0] + 1:
            raise BadInput(f"{folder}: versions jump from {_show(v1)} to {_show(v2)} "
                           f"({p1.name} → {p2.name}); a V{v1[0] + 1} file is missing")


def _repeatables(folder: Path) -> list[Path]:
    found = [(m["description"], p) for p in folder.iterdir() if (m := _REPEATABLE.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def _show(version: tuple[int, ...]) -> str:
    return "V" + ".".join(map(str, version))
