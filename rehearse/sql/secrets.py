"""Secrets in SQL text, masked for display: found by the parse tree, replaced token by token.

The statement shown or saved (plan, console, JSON, statements.parquet, reports) is `mask(sql)`; the
executor still runs the real text. What counts as a secret:

* the string after a `PASSWORD` option: `CREATE/ALTER ROLE|USER … [ENCRYPTED] PASSWORD '…'`, and any
  generic option whose name contains "password" (`CREATE/ALTER USER MAPPING … OPTIONS (password '…')`,
  `CREATE SERVER … OPTIONS (…)`);
* a connection string carrying a password: the string arguments of `dblink*` calls and the
  `CONNECTION '…'` of `CREATE/ALTER SUBSCRIPTION` (the password inside it is replaced, the rest kept).

The parse tree says where each secret starts (a DefElem's or an A_Const's location); pglast's scanner gives
the exact extent of the string token there, so dollar quotes and E'' strings are masked whole.
"""

from __future__ import annotations

import pglast
from pglast import ast
from pglast.parser import ParseError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from rehearse.sql.lock_rules import walk

MASK = "'***'"
_STRING_TOKENS = ("SCONST", "USCONST")
_WORDS = ("password", "dblink", "subscription")


def mask(sql: str) -> str:
    """`sql` with every password literal replaced by '***' (unchanged when there is none or it does not parse)."""
    if not any(word in sql.lower() for word in _WORDS):  # most statements carry none: skip the parse
        return sql
    try:
        nodes = list(walk(pglast.parse_sql(sql)))
        tokens = [t for t in pglast.parser.scan(sql) if t.name in _STRING_TOKENS]
    except ParseError:
        return sql
    replacements = dict(_secrets(sql, nodes, tokens))
    for token in sorted(replacements, key=lambda t: t.start, reverse=True):
        sql = sql[: token.start] + replacements[token] + sql[token.end + 1 :]
    return sql


def _secrets(sql: str, nodes: list, tokens: list):
    """(string token, its masked text) for each secret the statement carries."""
    for node in nodes:
        if isinstance(node, ast.DefElem) and "password" in (node.defname or "").lower():
            token = _first_after(tokens, node.location)
            if token is not None:
                yield token, MASK
        elif isinstance(node, ast.FuncCall) and _name(node).startswith("dblink"):
            strings = [a for a in node.args or () if isinstance(a, ast.A_Const) and isinstance(a.val, ast.String)]
            after = [t for t in tokens if t.start >= node.location][: len(strings)]
            yield from _conninfos(sql, after)
        elif isinstance(node, (ast.CreateSubscriptionStmt, ast.AlterSubscriptionStmt)) and node.conninfo:
            yield from _conninfos(sql, tokens)


def _conninfos(sql: str, tokens: list):
    for token in tokens:
        literal = _text(sql, token)
        masked = _masked_conninfo(_value(literal), literal)
        if masked != literal:
            yield token, masked


def _first_after(tokens: list, location: int | None):
    return next((t for t in tokens if location is not None and t.start >= location), None)


def _name(call: ast.FuncCall) -> str:
    return (call.funcname[-1].sval or "").lower()


def _text(sql: str, token) -> str:
    return sql[token.start : token.end + 1]


def _value(literal: str) -> str:
    """What a string literal means ('it''s', E'\\n', $$…$$), as PostgreSQL's parser reads it."""
    return pglast.parse_sql(f"SELECT {literal}")[0].stmt.targetList[0].val.val.sval


def _masked_conninfo(value: str, literal: str) -> str:
    """The literal with a password inside its connection string masked; as it was when it has none."""
    try:
        parts = conninfo_to_dict(value)
    except Exception:  # not a connection string (a query, a connection name): nothing to mask
        return literal
    if not parts.get("password"):
        return literal
    parts["password"] = "***"
    return "'" + make_conninfo(**parts).replace("'", "''") + "'"
