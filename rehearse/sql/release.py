"""A release: the migrations production will apply, in deploy order, each with its own rollback.

What makes one migration of a release:

* several paths: each path is one migration, in the order given;
* one Flyway folder: each `V<n>__…sql` file is one migration, its `U<n>__…sql` file its rollback (Flyway
  applies and records them one by one); `R__` repeatables form a last migration of their own;
* one Liquibase changelog: each changeset is one migration, its `--rollback` SQL its rollback;
* an Alembic project: the revisions from `--from` to `--to` as one migration (Alembic's offline SQL for that
  range), each statement credited to its revision file.

Every file is parsed here, before anything runs, so a path, a range or a changelog the tool cannot read is
one line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from common.errors import BadInput
from rehearse.sql import migration as migration_mod
from rehearse.sql import readers
from rehearse.sql.migration import Migration
from rehearse.sql.readers import files
from rehearse.sql.script import Layout, Script, size_limit


@dataclass(frozen=True)
class Part:
    """One migration of a release: a name to show, the path it came from, the parsed migration."""

    name: str
    path: str
    migration: Migration


def parts(paths, start=None, end=None, max_mb: float | None = None, down=None, rollback: bool = False) -> list[Part]:
    """The migrations of the release made of `paths`; `start`/`end`: an Alembic range (revisions); a file
    over `max_mb` MB is refused before it is read (see rehearse.sql.script.size_limit). `down` (`--down`)
    replaces the rollback of a release of one migration, as it does for `rehearse run`; `rollback`
    (`--rollback`) requires every migration to have one."""
    found = _with_down(_parts([str(p) for p in paths], start, end, max_mb), down, max_mb)
    missing = [p.name for p in found if p.migration.down is None]
    if rollback and missing:
        raise BadInput(
            f"--rollback needs a down script for every migration and {', '.join(missing)} has none: add down.sql "
            "beside up.sql, U files (Flyway) or --rollback lines (Liquibase)"
        )
    return found


def _with_down(found: list[Part], down, max_mb: float | None) -> list[Part]:
    """`--down FILE`: the rollback of a one-migration release; a release of several has one per migration."""
    if down is None:
        return found
    if len(found) != 1:
        raise BadInput(
            f"--down {down}: this release has {len(found)} migrations and each brings its own rollback (down.sql "
            "beside up.sql, U files, --rollback lines); --down replaces it only for a release of one migration"
        )
    with size_limit(max_mb):
        given = readers.locate(down)
    (part,) = found
    rollback = migration_mod.from_scripts(f"{part.name} (down)", given.up, given.notes)
    return [replace(part, migration=replace(part.migration, down=rollback))]


def _parts(paths: list[str], start, end, max_mb: float | None) -> list[Part]:
    if not paths:
        raise BadInput("no release given; name a Flyway folder, a Liquibase changelog, an Alembic project or files")
    if (start or end) and (len(paths) != 1 or not readers.is_alembic(Path(paths[0]))):
        raise BadInput("--from/--to name an Alembic range; give one Alembic project folder with them")
    if len(paths) > 1:
        return [Part(_name(p), p, migration_mod.load(p, max_mb=max_mb)) for p in paths]
    with size_limit(max_mb):
        layout = readers.locate(paths[0], revisions=(start, end) if start or end else None)
    pieces = _split(layout) if len(layout.up) > 1 else [(layout.name, layout.up, layout.down)]
    return [Part(name, paths[0], _migration(name, up, down, layout, paths[0])) for name, up, down in pieces]


def _name(path: str) -> str:
    p = Path(path)
    return p.stem if p.is_file() else p.name


def _migration(name: str, up: tuple[Script, ...], down: tuple[Script, ...], layout: Layout, path: str) -> Migration:
    rollback = migration_mod.from_scripts(f"{name} (down)", down, layout.down_notes) if down else None
    return replace(migration_mod.from_scripts(name, up, layout.notes), down=rollback, path=path)


def _split(layout: Layout) -> list[tuple[str, tuple[Script, ...], tuple[Script, ...]]]:
    """One piece per up script, each with the down scripts that undo it (Flyway: same version; Liquibase:
    the rollback written inside the changeset, i.e. at lines between its start and the next one's)."""
    if len({s.source for s in layout.up}) == 1:  # Liquibase: every changeset is a piece of one file
        starts = [_first_line(s) for s in layout.up]
        owner = {id(d): _owner(_first_line(d), starts) for d in layout.down}
        return [
            (
                f"{Path(s.source).stem} changeset at line {starts[i]}",
                (s,),
                tuple(d for d in layout.down if owner[id(d)] == i),
            )
            for i, s in enumerate(layout.up)
        ]
    undo = {files.version_of(d.source): d for d in layout.down}
    return [(Path(s.source).stem, (s,), _undo_of(s, undo)) for s in layout.up]


def _undo_of(script: Script, undo: dict) -> tuple[Script, ...]:
    version = files.version_of(script.source)
    return (undo[version],) if version is not None and version in undo else ()


def _first_line(script: Script) -> int:
    return next((i for i, line in enumerate(script.text.splitlines(), 1) if line.strip()), 1)


def _owner(line: int, starts: list[int]) -> int:
    return max((i for i, first in enumerate(starts) if first <= line), default=0)
