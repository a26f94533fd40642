"""SQL text → statements with their lines, by PostgreSQL's own parser (pglast); syntax errors located."""

from __future__ import annotations

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
    node: ast.Node


def parse(text: str, source: str) -> list[Piece]:
    """Every statement of `text`, in order; BadInput naming source, statement and line on a syntax error.

    The whole text goes through the parser at once, so what a naive split on `;` gets wrong
    (dollar-quoted bodies, BEGIN ATOMIC, semicolons in strings and comments) comes out right.
    """
    try:
        raw = pglast.parse_sql(text)
    except ParseError as exc:
        raise BadInput(_syntax_error(text, source, exc)) from None
    return [_piece(text, r) for r in raw]


def _piece(text: str, raw: ast.RawStmt) -> Piece:
    start = raw.stmt_location
    end = start + raw.stmt_len if raw.stmt_len else len(text)  # 0 means "to the end of the text"
    sql = _without_trailing_comments(text[start:end])
    return Piece(sql, start, line_of(text, start), raw.stmt)


def _without_trailing_comments(sql: str) -> str:
    # The last statement without a `;` runs to the end of the file, comments included; cut after its last
    # token that is not a comment, so the text shown and run is the statement alone.
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
    return f"{source}: {where}: {message}{_hint(before, text[offset : offset + 6])}"


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


def _hint(before: list, at: str) -> str:
    """The fix for the mistake migrations bring over from MySQL: UPDATE/DELETE … LIMIT."""
    try:
        error_token = pglast.parser.scan(at)[:1]
    except ParseError:
        return ""
    if before and before[0].name in ("UPDATE", "DELETE_P", "WITH") and [t.name for t in error_token] == ["LIMIT"]:
        return "; PostgreSQL has no UPDATE/DELETE … LIMIT: batch with WHERE id IN (SELECT id FROM … WHERE … LIMIT n)"
    return ""
