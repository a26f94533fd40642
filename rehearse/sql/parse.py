"""SQL text → statements with their lines, by PostgreSQL's own parser (pglast); syntax errors located."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

import pglast
from pglast import ast
from pglast.parser import ParseError

from common.errors import BadInput


class Piece(NamedTuple):
    """One parsed statement: its text as written, where it starts, and its parse tree."""

    sql: str
    offset: int  # character offset in the file
    line: int  # 1-based
    node: ast.Node  # DML: shared with the statements of the same shape (see _Trees)


def parse(text: str, source: str) -> list[Piece]:
    """Every statement of `text`, in order; BadInput naming source, statement and line on a syntax error."""
    return list(iter_parse(text, source))


def iter_parse(text: str, source: str) -> Iterator[Piece]:
    """`parse`, one statement at a time, so a caller keeping no trees holds one tree at a time.

    The whole text goes through PostgreSQL's parser first (pglast.split: the grammar's statement bounds,
    no Python tree), so what a naive split on `;` gets wrong (dollar-quoted bodies, BEGIN ATOMIC,
    semicolons in strings and comments) comes out right and a syntax error anywhere is raised before the
    first statement is yielded. Each statement is then parsed alone into its tree, and its line counted
    from the previous statement's: linear in the size of the text (see bench/parse_size.py).
    """
    try:
        bounds = pglast.split(text, with_parser=True, only_slices=True)
    except ParseError as exc:
        raise BadInput(_syntax_error(text, source, exc)) from None
    line, counted, trees = 1, 0, _Trees()
    for bound in bounds:
        line, counted = line + text.count("\n", counted, bound.start), bound.start
        sql = text[bound]
        yield Piece(_without_trailing_comments(sql), bound.start, line, trees.tree(sql))


_DML = re.compile(r"(?:INSERT|UPDATE|DELETE|SELECT|WITH|VALUES)\b", re.IGNORECASE)
_MAX_SHAPES = 10_000  # bounds the memory the shared trees take


class _Trees:
    """Parse trees, shared between DML statements of one shape.

    Building a Python tree costs ~1 ms, and a big migration is mostly the same INSERT or UPDATE with other
    values (500 k of them: minutes). Statements whose fingerprint (the tree without literal values,
    computed in C) is the same share the first one's tree: what this project reads from a DML tree — kind,
    tables and lock modes — does not depend on literal values. DDL always gets its own tree: a literal can
    matter there (a type's length, an option's value).
    """

    def __init__(self):
        self._by_shape: dict[str, ast.Node] = {}

    def tree(self, sql: str) -> ast.Node:
        if not _DML.match(sql):
            return _tree(sql)
        shape = pglast.fingerprint(sql)
        found = self._by_shape.get(shape)
        if found is None:
            found = _tree(sql)
            if len(self._by_shape) < _MAX_SHAPES:
                self._by_shape[shape] = found
        return found


def _tree(sql: str) -> ast.Node:
    (raw,) = pglast.parse_sql(sql)  # one statement: its bounds came from the same grammar
    return raw.stmt


def _without_trailing_comments(sql: str) -> str:
    # The last statement without a `;` runs to the end of the file, comments included; cut after its last
    # token that is not a comment, so the text shown and run is the statement alone.
    if "--" not in sql and "/*" not in sql:
        return sql.strip()  # no comment: the last token ends where the text does (a fast path)
    tokens = _tokens(sql)
    return sql[: tokens[-1].end + 1] if tokens else sql.strip()


def _tokens(sql: str) -> list:
    return [t for t in pglast.parser.scan(sql) if t.name not in ("SQL_COMMENT", "C_COMMENT")]


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _syntax_error(text: str, source: str, exc: ParseError) -> str:
    message, offset = exc.args[0], getattr(exc, "location", exc.args[-1])
    offset = min(max(int(offset), 0), len(text))
    line = line_of(text, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    where = f"line {line}, position {column}"
    number, before = _statement_at(text, offset)
    if number:
        where = f"statement {number} ({where})"
    return f"{source}: {where}: {message}{_hint(before, text[offset : offset + 6])}{_meta_hint(text, offset)}"


_OPENERS = {"ASCII_40", "CASE", "ATOMIC"}  # '(' and the words whose block ends at ')' or END
_CLOSERS = {"ASCII_41", "END_P"}


def _statement_at(text: str, offset: int) -> tuple[int | None, list]:
    """Which statement (1-based) an error offset falls in, and that statement's tokens before it.

    Counted on the scanner's tokens, which exist even where the grammar fails: a `;` outside
    parentheses, CASE … END and BEGIN ATOMIC … END ends a statement.
    """
    try:
        tokens = _tokens(text[:offset])
    except ParseError:  # e.g. an unterminated quote earlier on: no count, the line still helps
        return None, []
    number, depth, current = 1, 0, []
    for token in tokens:
        depth += (token.name in _OPENERS) - (token.name in _CLOSERS and depth > 0)
        if token.name == "ASCII_59" and depth == 0:
            number, current = number + bool(current), []
        else:
            current.append(token)
    return number, current


def _meta_hint(text: str, offset: int) -> str:
    """psql's backslash commands (\\i, \\set, \\connect, …) are the client's, not SQL: say so."""
    if not text.startswith("\\", offset):
        return ""
    command = text[offset:].split(maxsplit=1)[0]
    return (
        f"; {command} is a psql meta-command, not SQL, and only psql runs it: inline the SQL it stands for "
        "(for \\i, the included file's statements) or drop it"
    )


def _hint(before: list, at: str) -> str:
    """The fix for the mistake migrations bring over from MySQL: UPDATE/DELETE … LIMIT."""
    try:
        error_token = pglast.parser.scan(at)[:1]
    except ParseError:
        return ""
    if before and before[0].name in ("UPDATE", "DELETE_P", "WITH") and [t.name for t in error_token] == ["LIMIT"]:
        return "; PostgreSQL has no UPDATE/DELETE … LIMIT: batch with WHERE id IN (SELECT id FROM … WHERE … LIMIT n)"
    return ""
