"""Liquibase formatted-SQL changelogs: each changeset one transaction unit, its --rollback SQL the down.

Read the way Liquibase reads them (liquibase-standard, AbstractFormattedChangeLogParser):

* `--liquibase formatted sql` on the first line marks the file; `--changeset author:id [attribute:value …]`
  opens a changeset that runs to the next one. Lines before the first changeset are ignored, by Liquibase
  and here (a note says so when they hold SQL).
* A changeset runs in one transaction, as Liquibase runs it. `runInTransaction:false` runs each statement
  on its own (auto-commit), which CREATE INDEX CONCURRENTLY needs; without it such a statement is rejected
  here, as PostgreSQL would reject it under Liquibase.
* `splitStatements:false` sends the changeset to the driver as one statement. pglast still splits it (the
  engine measures, and the verdict reads, one statement at a time) but they stay one unit, since PostgreSQL
  runs statements sent together in one implicit transaction. `endDelimiter:X` ends a statement where a line
  ends in X; `/` or `GO` alone on a line ends one by default, as in Liquibase.
* `--rollback <sql>` lines (one or several, or a `/* liquibase rollback … */` block) are the changeset's
  rollback; `--rollback empty` / `not required` mean nothing to undo; `--rollback changesetId:…
  changesetAuthor:…` reuses another changeset's SQL. The down runs the rollbacks newest changeset first,
  each grouped like its changeset (runInTransaction, rollbackSplitStatements, rollbackEndDelimiter).
* A changeset with no rollback: Liquibase's rollback stops there (RollbackImpossibleException). The down
  holds, in its place, a statement that fails with that message, so a rehearsed rollback fails where
  Liquibase's would and the run records it; the down's notes list such changesets. When no changeset has
  rollback SQL there is no down at all, and the migration's notes say why.
* `--property name:… value:…` is substituted for `${name}`; a changeset whose `dbms:` excludes postgresql,
  or with `ignore:true`, is skipped. `--comment`, `--validCheckSum` and `--ignoreLines` are honoured;
  preconditions are not evaluated (changesets run as if they passed) and contexts and labels do not
  filter (every changeset runs): notes list where they appear.
"""

from __future__ import annotations

import re
from pathlib import Path

from common.errors import BadInput
from rehearse.sql import kinds as _sqlkinds
from rehearse.sql import parse as _sqlparse
from rehearse.sql.readers.changelog import ATTRIBUTE, VARIABLE, ChangelogReader, Changeset, Piece, is_changelog
from rehearse.sql.script import Layout, Script

__all__ = ["is_changelog", "layout"]


def layout(path: Path, text: str) -> Layout:
    """The changelog's changesets as up scripts and their rollbacks, newest first, as down scripts."""
    reader = ChangelogReader(path, [line.rstrip("\r") for line in text.split("\n")]).read()
    if not reader.changesets:
        raise BadInput(
            f"{path}: Liquibase changelog without any changeset; put a '--changeset author:id' "
            "line above each change (or drop the '--liquibase formatted sql' header: plain SQL)"
        )
    active = [c for c in reader.changesets if _runs_on_postgres(c, reader.notes)]
    if not active:
        raise BadInput(f"{path}: every changeset is skipped on PostgreSQL (dbms:/ignore:); nothing to rehearse")
    up = tuple(_up(path, c, reader.properties) for c in active)
    down, down_notes = _down(path, active, reader)
    return Layout(path.stem, up, down, tuple(reader.notes), down_notes)


def _up(path: Path, c: Changeset, properties: dict[str, str]) -> Script:
    script = _script(
        path,
        c.body,
        c,
        f"changeset {c.label}",
        properties,
        c.attributes.get("enddelimiter"),
        c.flag("splitStatements", True),
    )
    if script is None:  # Liquibase: "No SQL for changeset"
        raise BadInput(
            f"{path}:{c.line}: changeset {c.label} has no SQL; write its SQL under the --changeset "
            "line, or remove the changeset"
        )
    return script


def _runs_on_postgres(c: Changeset, notes: list[str]) -> bool:
    if c.flag("ignore", False) or not _for_postgres(c.attributes.get("dbms")):
        why = "ignore:true" if c.flag("ignore", False) else f"dbms:{c.attributes['dbms']}"
        notes.append(f"changeset {c.label} (line {c.line}) is skipped on PostgreSQL ({why}), as by Liquibase")
        return False
    return True


def _for_postgres(dbms: str | None) -> bool:
    """Liquibase's DatabaseList.definitionMatches for postgresql: `all`, `none`, lists and `!` exclusions."""
    names = {d.strip().lower() for d in (dbms or "").split(",") if d.strip()}
    if not names or "all" in names:
        return True
    if "none" in names or "!postgresql" in names:
        return False
    wanted = {n for n in names if not n.startswith("!")}
    return not wanted or "postgresql" in wanted


def _script(
    path: Path, pieces: list[Piece], c: Changeset, what: str, properties: dict, delimiter: str | None, split: bool
) -> Script | None:
    """The Script of a changeset (or of its rollback); None when it holds no statement."""
    pieces = _delimited(_expanded(pieces, properties), delimiter)
    text = _place(pieces)
    try:
        parsed = _sqlparse.parse(text, str(path))
    except BadInput as exc:
        raise BadInput(f"{exc} (in {what})") from None
    if not parsed:
        return None
    one_unit = c.flag("runInTransaction", True) or (not split and len(parsed) > 1)
    if one_unit:
        _check_one_transaction(path, parsed, c, what)
    return Script(text, str(path), autocommit=not one_unit)


def _check_one_transaction(path: Path, parsed: list[_sqlparse.Piece], c: Changeset, what: str) -> None:
    for piece in parsed:
        if not _sqlkinds.runs_in_transaction(piece.node):
            words = " ".join(piece.sql.split())
            shown = words if len(words) <= 40 else words[:39] + "…"
            fix = (
                "add runInTransaction:false to its --changeset line"
                if c.flag("runInTransaction", True)
                else "with splitStatements:false its statements are sent together: give it a changeset of its own"
            )
            raise BadInput(
                f"{path}:{piece.line}: {shown} cannot run inside a transaction block, and Liquibase "
                f"runs {what} in one; {fix}"
            )


def _down(path: Path, active: list[Changeset], reader: ChangelogReader) -> tuple[tuple[Script, ...], tuple[str, ...]]:
    """The rollbacks, newest changeset first; a failing stand-in where a changeset has none."""
    scripts, missing, real = [], [], 0
    for c in reversed(active):
        pieces, delimiter = _rollback_of(path, c, reader.changesets)
        if pieces is None:
            missing.append(c)
            scripts.append(_impossible(path, c))
            continue
        script = _script(
            path,
            pieces,
            c,
            f"the rollback of changeset {c.label}",
            reader.properties,
            delimiter,
            c.flag("rollbackSplitStatements", True),
        )
        scripts, real = (scripts + [script], real + 1) if script else (scripts, real)
    if missing and not real:
        return (), (
            f"{path}: no changeset has a --rollback, so there is no down script; add --rollback <sql> "
            "(or --rollback empty) to each changeset",
        )
    return tuple(scripts), tuple(
        f"changeset {c.label} (line {c.line}) has no --rollback: Liquibase cannot roll "
        "it back, so the rehearsed rollback fails there as Liquibase's would"
        for c in reversed(missing)
    )


def _rollback_of(path: Path, c: Changeset, changesets: list[Changeset]) -> tuple[list[Piece] | None, str | None]:
    """The changeset's rollback SQL (None when it has none) and the end delimiter that applies to it."""
    own_delimiter = c.attributes.get("rollbackenddelimiter")
    if c.rollback is None:
        return None, own_delimiter
    words = " ".join(text for _, _, text in c.rollback).strip()
    if re.match(r"(empty|not required)\b", words, re.I):
        return [], own_delimiter
    if "changesetid" not in words.lower():
        return c.rollback, own_delimiter
    found = {k.lower(): v for k, v in ATTRIBUTE.findall(words)}
    target = f"{found.get('changesetauthor')}:{found.get('changesetid')}"
    other = next((o for o in changesets if o.label == target), None)
    if other is None or found.get("changesetpath", path.name) not in (path.name, str(path)):
        raise BadInput(
            f"{path}:{c.rollback[0][0]}: the rollback of changeset {c.label} names changeset "
            f"{target}, which is not in this file; write its rollback SQL instead"
        )
    return other.body, other.attributes.get("enddelimiter")


def _impossible(path: Path, c: Changeset) -> Script:
    """A statement that fails as Liquibase's rollback of a changeset without rollback does."""
    message = (
        f"changeset {c.label} has no --rollback: Liquibase cannot roll it back (RollbackImpossible"
        "Exception); add --rollback <sql>, or --rollback empty if nothing needs undoing"
    )
    literal = message.replace("'", "''").replace("%", "%%")
    sql = f"DO $rehearse$ BEGIN RAISE EXCEPTION '{literal}' USING ERRCODE = 'P0001'; END $rehearse$"
    return Script(_place([(c.line, 0, sql)]), str(path), autocommit=False)


def _expanded(pieces: list[Piece], properties: dict[str, str]) -> list[Piece]:
    def value(m: re.Match) -> str:
        return properties.get(m[1], m[0])  # an unknown ${name} stays as written, as in Liquibase

    return [(line, col, VARIABLE.sub(value, text)) for line, col, text in pieces] if properties else pieces


def _delimited(pieces: list[Piece], delimiter: str | None) -> list[Piece]:
    """`;` where a line ends in the end delimiter (or is `/` or `GO` alone, when none is set)."""
    out = []
    for line, col, text in pieces:
        body = text.rstrip()
        if delimiter and delimiter != ";" and body.lower().endswith(delimiter.lower()):
            text = body[: len(body) - len(delimiter)] + ";"
        elif not delimiter and body.strip().lower() in ("/", "go"):
            text = ";"
        out.append((line, col, text))
    return out


def _place(pieces: list[Piece]) -> str:
    """Text with every piece at its own line and column, blank elsewhere: lines and positions stay the file's."""
    lines = [""] * max((line for line, _, _ in pieces), default=0)
    for line, col, text in pieces:
        lines[line - 1] = " " * col + text
    return "\n".join(lines) + "\n"
