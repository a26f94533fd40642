"""A pg_dump schema split as pg_restore orders it: what runs before the load and what after."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pglast
import pglast.stream
from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from common.errors import BadInput

# Constraints that pg_restore adds after the data (post-data): keys, checks added apart, exclusions.
POST_CONSTRAINTS = {
    ConstrType.CONSTR_PRIMARY,
    ConstrType.CONSTR_UNIQUE,
    ConstrType.CONSTR_FOREIGN,
    ConstrType.CONSTR_CHECK,
    ConstrType.CONSTR_EXCLUSION,
}
POST_NODES = (ast.IndexStmt, ast.CreateTrigStmt, ast.RuleStmt, ast.CreatePolicyStmt, ast.CreateEventTrigStmt)
SESSION_NODES = (ast.VariableSetStmt,)


@dataclass
class Split:
    """Statements before the load, after it, and what the generator must know from the post part."""

    pre: list[str] = field(default_factory=list)
    post: list[str] = field(default_factory=list)
    session: list[str] = field(default_factory=list)  # SET / set_config lines, run in every session
    extensions: list[str] = field(default_factory=list)
    matviews: list[str] = field(default_factory=list)
    keys: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (table, columns) unique
    foreign: list[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)  # (table, expression) added post-data
    stand_ins: list[dict] = field(default_factory=list)  # --stand-in-missing: every substitution made


def split(schema_sql: str) -> Split:
    """Every statement of the dump, classified; a file that does not parse is one-line bad input."""
    text = "\n".join(line for line in schema_sql.splitlines() if not line.startswith("\\"))  # psql meta lines
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError as exc:
        raise BadInput(f"the profile's schema_sql does not parse: {exc}; give `pg_dump --schema-only` output") from None
    raw, result = text.encode(), Split()
    for statement in statements:
        sql = raw[statement.stmt_location : statement.stmt_location + statement.stmt_len].decode().strip()
        _classify(statement.stmt, sql, result)
    return result


def _classify(node, sql: str, result: Split) -> None:
    if isinstance(node, SESSION_NODES) or (isinstance(node, ast.SelectStmt) and "set_config" in sql):
        result.session.append(sql)
    elif isinstance(node, ast.CreateExtensionStmt):
        result.extensions.append(node.extname)
        result.pre.append(sql)
    elif isinstance(node, POST_NODES) or isinstance(node, ast.CommentStmt):
        result.post.append(sql)
        if isinstance(node, ast.IndexStmt) and node.unique:
            result.keys.append((_name(node.relation), _index_columns(node)))
    elif isinstance(node, ast.AlterTableStmt) and _is_post(node):
        result.post.append(sql)
        for cmd in node.cmds:
            _constraint(_name(node.relation), cmd.def_, result)
    else:
        result.pre.append(sql)
        if isinstance(node, ast.CreateTableAsStmt) and node.objtype == ObjectType.OBJECT_MATVIEW:
            result.matviews.append(_name(node.into.rel))


def _is_post(node: ast.AlterTableStmt) -> bool:
    if node.objtype == ObjectType.OBJECT_INDEX:
        return True  # ALTER INDEX … ATTACH PARTITION
    return any(
        c.subtype in (AlterTableType.AT_ClusterOn, AlterTableType.AT_ReplicaIdentity)
        or (c.subtype == AlterTableType.AT_AddConstraint and c.def_.contype in POST_CONSTRAINTS)
        for c in node.cmds
    )


def _constraint(table: str, con, result: Split) -> None:
    if not isinstance(con, ast.Constraint):
        return
    if con.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
        result.keys.append((table, tuple(k.sval for k in con.keys or ())))
    elif con.contype == ConstrType.CONSTR_FOREIGN:
        columns = tuple(a.sval for a in con.fk_attrs)
        result.foreign.append((table, columns, _name(con.pktable), tuple(a.sval for a in con.pk_attrs or ())))
    elif con.contype == ConstrType.CONSTR_CHECK:
        result.checks.append((table, pglast.stream.RawStream()(con.raw_expr)))


def _index_columns(node: ast.IndexStmt) -> tuple[str, ...]:
    """Plain columns, or the columns an expression reads (unique on lower(email) makes email unique)."""
    names: list[str] = []
    for param in node.indexParams:
        if param.name:
            names.append(param.name)
        else:
            names += re.findall(r"ColumnRef fields=\(<String sval='(\w+)'", repr(param.expr))
    return tuple(dict.fromkeys(names))


def _name(rel) -> str:
    return f"{rel.schemaname or 'public'}.{rel.relname}"
