"""A Liquibase formatted-SQL changelog read line by line, as Liquibase's parser reads it: its changesets,
their --rollback SQL, properties, and notes on what the rehearsal does not evaluate (see liquibase.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import BadInput

Piece = tuple[int, int, str]  # SQL text at (line, column) of the changelog

_HEADER = re.compile(r"\s*--\s*liquibase\s*formatted.*", re.I)
_CHANGESET = re.compile(r'\s*--\s*changeset\s+("[^"]+"|[^:]+):\s*("[^"]+"|\S+)(.*)', re.I)
_CHANGESET_ANY = re.compile(r"\s*--\s*changeset\b", re.I)
_ROLLBACK = re.compile(r"(\s*--\s*rollback )(.*)", re.I)  # Liquibase wants the space after "rollback"
_ROLLBACK_BLOCK = re.compile(r"\s*/\*\s*liquibase\s*rollback\s*", re.I)
_SKIPPED_LINE = re.compile(r"\s*--\s*(comments?:?\s|validCheckSum\b)", re.I)
_PRECONDITION = re.compile(r"\s*--\s*preconditions?\b", re.I)
_IGNORE_LINES = re.compile(r"\s*--\s*ignoreLines:(\w+)", re.I)
_PROPERTY = re.compile(r"\s*--\s*property\s", re.I)
ATTRIBUTE = re.compile(r'(\w+):("[^"]*"|\S*)')
VARIABLE = re.compile(r"\$\{([^}]+)\}")


def is_changelog(text: str) -> bool:
    """True when the first non-blank line is Liquibase's `--liquibase formatted sql` header."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    return bool(_HEADER.fullmatch(first.strip()))


@dataclass
class Changeset:
    author: str
    id: str
    line: int
    attributes: dict[str, str]  # lower-cased names, as Liquibase matches them
    body: list[Piece] = field(default_factory=list)
    rollback: list[Piece] | None = None  # None: no --rollback at all

    @property
    def label(self) -> str:
        return f"{self.author}:{self.id}"

    def flag(self, name: str, default: bool) -> bool:
        value = self.attributes.get(name.lower())
        return default if value is None else value.lower() == "true"


class ChangelogReader:
    """Walks the changelog line by line, as Liquibase's parser does, collecting changesets."""

    def __init__(self, path: Path, lines: list[str]):
        self.path, self.lines = path, lines
        self.changesets: list[Changeset] = []
        self.properties: dict[str, str] = {}
        self.notes: list[str] = []
        self.loose: list[int] = []  # lines of SQL before the first changeset
        self.preconditions: list[int] = []

    def read(self) -> ChangelogReader:
        n = 0
        while n < len(self.lines):
            n = self._line(n) + 1
        if self.loose:
            self.notes.append(
                f"{self.path}: SQL before the first --changeset (line {self.loose[0]}) is "
                "ignored, by Liquibase and by the rehearsal"
            )
        if self.preconditions:
            lines = ", ".join(map(str, self.preconditions))
            self.notes.append(
                f"{self.path}: preconditions (line {lines}) are not evaluated; their changesets run as if they passed"
            )
        return self

    def _line(self, n: int) -> int:
        """Read line n (0-based); the index of the last line it consumed."""
        line, number = self.lines[n], n + 1
        current = self.changesets[-1] if self.changesets else None
        if _PROPERTY.match(line):
            self._property(line)
        elif m := _IGNORE_LINES.match(line):
            return self._ignore(n, m[1])
        elif m := _CHANGESET.fullmatch(line):
            self._open(m, number)
        elif _CHANGESET_ANY.match(line):
            raise BadInput(
                f"{self.path}:{number}: cannot read this --changeset line; "
                "write --changeset author:id [attribute:value …]"
            )
        elif current is None:
            if line.strip() and not line.strip().startswith(("--", "/*", "*")):
                self.loose.append(number)
        elif m := _ROLLBACK.match(line):
            current.rollback = (current.rollback or []) + [(number, len(m[1]), m[2])]
        elif _ROLLBACK_BLOCK.fullmatch(line):
            return self._rollback_block(n, current)
        elif _PRECONDITION.match(line):
            self.preconditions.append(number)
        elif not _SKIPPED_LINE.match(line):
            current.body.append((number, 0, line))
        return n

    def _open(self, m: re.Match, number: int) -> None:
        author, id_ = (g.strip().strip('"') for g in (m[1], m[2]))
        attributes = {k.lower(): v.strip('"') for k, v in ATTRIBUTE.findall(m[3])}
        changeset = Changeset(author, id_, number, attributes)
        first = next((c for c in self.changesets if c.label == changeset.label), None)
        if first:
            raise BadInput(
                f"{self.path}:{number}: changeset {changeset.label} appears twice (first at line "
                f"{first.line}); give each changeset its own id"
            )
        self.changesets.append(changeset)
        self._remark(changeset)

    def _remark(self, c: Changeset) -> None:
        if {"context", "contextfilter", "labels"} & c.attributes.keys():
            self.notes.append(f"changeset {c.label} (line {c.line}) has contexts/labels: not filtered, it runs")
        if not c.flag("failOnError", True):
            self.notes.append(
                f"changeset {c.label} (line {c.line}) has failOnError:false: Liquibase would go "
                "on after an error there; the rehearsal stops, as for any failure"
            )

    def _property(self, line: str) -> None:
        name, value = re.search(r"name:\s*(\S+)", line, re.I), re.search(r"value:\s*(\S+)", line, re.I)
        if name and value:
            self.properties[name[1]] = value[1]

    def _ignore(self, n: int, what: str) -> int:
        if what.isdigit():
            return min(n + int(what), len(self.lines) - 1)
        if what.lower() != "start":
            raise BadInput(
                f"{self.path}:{n + 1}: --ignoreLines:{what} is not understood; "
                "write --ignoreLines:<count> or --ignoreLines:start … --ignoreLines:end"
            )
        ends = (
            i
            for i in range(n + 1, len(self.lines))
            if (m := _IGNORE_LINES.match(self.lines[i])) and m[1].lower() == "end"
        )
        return next(ends, len(self.lines) - 1)

    def _rollback_block(self, n: int, current: Changeset) -> int:
        pieces = []
        for i in range(n + 1, len(self.lines)):
            text, closed = self.lines[i], self.lines[i].rstrip().endswith("*/")
            pieces.append((i + 1, 0, text.rstrip()[:-2] if closed else text))
            if closed:
                current.rollback = (current.rollback or []) + pieces
                return i
        raise BadInput(f"{self.path}:{n + 1}: '/* liquibase rollback' is never closed; end the block with */")
