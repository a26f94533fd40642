"""Plain SQL migrations: one .sql file, an up.sql/down.sql folder, or a Flyway folder.

Flyway folders hold `V<version>__<description>.sql` files, applied in version order (numeric parts,
dotted or underscored: V1.2 = V1_2, and V1 = V1.0); major versions must be consecutive and unique.
`U<version>__….sql` undo files make the rollback, newest version first. `R__<description>.sql`
repeatables run after all versioned files, sorted by description, as Flyway does. Other files are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

from common.errors import BadInput
from rehearse.sql.script import Layout, Script, read

_VERSIONED = re.compile(r"(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.sql")
_REPEATABLE = re.compile(r"R__(?P<description>.+)\.sql")
EXPECTED = (
    "up.sql (optionally with down.sql), Flyway files named V<version>__<description>.sql, "
    "or an Alembic project (alembic.ini, or env.py and versions/)"
)


def scripts(*paths: Path) -> tuple[Script, ...]:
    return tuple(Script(read(p), str(p)) for p in paths)


def single_file(path: Path, text: str) -> Layout:
    return Layout(path.stem, (Script(text, str(path)),), ())


def sql_file(path: Path) -> Path:
    if path.suffix.lower() != ".sql":
        raise BadInput(f"{path}: not a .sql file; give a .sql file or a folder with {EXPECTED}")
    return path


def versioned_files(folder: Path) -> dict[str, list[tuple[tuple[int, ...], Path]]]:
    """{'V': [(version, path)], 'U': [...]} for the Flyway-named files of a folder."""
    found: dict[str, list] = {"V": [], "U": []}
    for path in sorted(folder.iterdir()):
        match = _VERSIONED.fullmatch(path.name)
        if match and path.is_file():
            found[match["prefix"]].append((_version(match["version"]), path))
    return found if found["V"] or found["U"] else {}


def version_of(source: str) -> tuple[int, ...] | None:
    """The Flyway version of a V or U file's path, None for any other file."""
    match = _VERSIONED.fullmatch(Path(source).name)
    return _version(match["version"]) if match else None


def misnamed(folder: Path) -> str:
    """' (… not named like Flyway files: a.sql, …)' for the .sql files a folder holds, else ''."""
    names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".sql" and p.is_file())
    if not names:
        return ""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (
        f" ({shown} {'is' if len(names) == 1 else 'are'} not named like Flyway files: "
        "V<version>__<description>.sql, capital V, two underscores, e.g. V1__add_column.sql)"
    )


def _version(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:  # Flyway treats 1.0 and 1 as the same version
        parts.pop()
    return tuple(parts)


def flyway(folder: Path, files: dict) -> Layout:
    if not files["V"]:
        raise BadInput(f"{folder}: has undo (U…) files but no versioned V…__….sql files; expected {EXPECTED}")
    versioned = sorted(files["V"])
    _check_versions(folder, versioned)
    known = {v for v, _ in versioned}
    for version, path in files["U"]:
        if version not in known:
            raise BadInput(f"{path}: undoes version {_show(version)}, which has no V file in {folder}")
    undo = [p for _, p in sorted(files["U"], reverse=True)]
    return Layout(folder.name, scripts(*(p for _, p in versioned), *_repeatables(folder)), scripts(*undo))


def _check_versions(folder: Path, versioned: list) -> None:
    for (v1, p1), (v2, p2) in zip(versioned, versioned[1:]):
        if v1 == v2:
            raise BadInput(
                f"{folder}: version {_show(v1)} appears twice ({p1.name}, {p2.name}); "
                "give each migration its own version"
            )
        if v2[0] > v1[0] + 1:
            raise BadInput(
                f"{folder}: versions jump from {_show(v1)} to {_show(v2)} "
                f"({p1.name} → {p2.name}); a V{v1[0] + 1} file is missing"
            )


def _repeatables(folder: Path) -> list[Path]:
    found = [(m["description"], p) for p in folder.iterdir() if (m := _REPEATABLE.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def _show(version: tuple[int, ...]) -> str:
    return "V" + ".".join(map(str, version))
