"""The safer form of a risky statement, where it is mechanical, rewritten from its parse tree (pglast).

* CREATE INDEX → CREATE INDEX CONCURRENTLY (ShareUpdateExclusiveLock: writes go on during the build).
* ALTER TABLE … ADD FOREIGN KEY / CHECK → the constraint added NOT VALID (no scan), then VALIDATE CONSTRAINT
  (ShareUpdateExclusiveLock on the table while it scans).
* ALTER COLUMN … SET NOT NULL → a CHECK (col IS NOT NULL) added NOT VALID, VALIDATE, then SET NOT NULL (which
  trusts the validated CHECK since PostgreSQL 12 and skips its scan), then the helper CHECK dropped.
* a one-shot UPDATE → keyed batches, each committed, at three batch sizes (rehearse.sql.remedy_batches).
* ALTER COLUMN … TYPE → an outline of expand/contract, written, not run (rehearse.sql.remedy_outline).

Each remedy is its statements in order; a migration tool runs each on its own (see rehearse.sql.remedy_file).
The statement is parsed afresh: the trees rehearse.sql.parse shares between statements are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType
from pglast.stream import RawStream
from pglast.visitors import Visitor

from rehearse.sql import remedy_batches, remedy_outline

NAME_MAX = 63  # PostgreSQL's identifier length (NAMEDATALEN - 1)


@dataclass(frozen=True)
class Remedy:
    """One rewrite of a statement: what it is, its statements, and whether the review rehearses it."""

    kind: str  # concurrently | not-valid | not-null-check | batches-<size> | expand-contract
    title: str
    statements: tuple[str, ...]  # each without its semicolon; the outline: one text of comments and SQL
    runnable: bool

    @property
    def sql(self) -> str:
        return "".join(f"{s};\n" for s in self.statements) if self.runnable else self.statements[0]


def remedies(sql: str, facts: dict | None = None) -> list[Remedy]:
    """The mechanical rewrites of one statement (none when its safer form is not mechanical).

    `facts`: {qualified table: remedy_batches.TableFacts} for a batched UPDATE (see `tables_to_batch`)."""
    (raw,) = pglast.parse_sql(sql)
    node = raw.stmt
    if isinstance(node, ast.IndexStmt) and not node.concurrent:
        node.concurrent = True
        return [Remedy("concurrently", "built CONCURRENTLY: writes go on during the build", (deparse(node),), True)]
    if isinstance(node, ast.AlterTableStmt):
        return _alter_table(node)
    if isinstance(node, ast.UpdateStmt):
        found = (facts or {}).get(remedy_batches.table_of(node))
        return [
            Remedy(f"batches-{size}", f"keyed batches of {size:,} keys, each committed", tuple(steps), True)
            for size, steps in remedy_batches.batched(node, found)
        ]
    return []


def tables_to_batch(sql: str) -> list[str]:
    """The table whose key and rows a batched rewrite of `sql` needs (an UPDATE's), else none."""
    (raw,) = pglast.parse_sql(sql)
    return [remedy_batches.table_of(raw.stmt)] if isinstance(raw.stmt, ast.UpdateStmt) else []


def deparse(node) -> str:
    return RawStream()(node)


def _alter_table(node: ast.AlterTableStmt) -> list[Remedy]:
    cmds = list(node.cmds)
    if any(c.subtype == AT.AT_AlterColumnType for c in cmds):
        text = remedy_outline.outline(node, deparse(node))
        return [Remedy("expand-contract", "expand/contract outline (written, not run)", (text,), False)]
    checked = [c for c in cmds if _validated_in_place(c)]
    not_null = [c for c in cmds if c.subtype == AT.AT_SetNotNull]
    if not checked and not not_null:
        return []
    table = node.relation.relname
    for cmd in checked:
        cmd.def_.conname = cmd.def_.conname or _constraint_name(table, cmd.def_)
        cmd.def_.skip_validation, cmd.def_.initially_valid = True, False
    helpers = [_not_null_check(table, c.name) for c in not_null]
    others = [c for c in cmds if c not in checked and c not in not_null]
    names = [c.def_.conname for c in checked] + [h.def_.conname for h in helpers]
    steps = [_alter(node, others + checked + helpers)]
    steps += [_alter(node, [_command(AT.AT_ValidateConstraint, name=n)]) for n in names]
    if not_null:
        steps.append(_alter(node, not_null))
        steps += [_alter(node, [_command(AT.AT_DropConstraint, name=h.def_.conname)]) for h in helpers]
    kind = "not-valid" if checked else "not-null-check"
    title = (
        "added NOT VALID, then VALIDATE (writes go on during the scan)"
        if checked and not not_null
        else "a CHECK added NOT VALID, VALIDATE, then SET NOT NULL without a scan"
    )
    return [Remedy(kind, title, tuple(steps), True)]


def _validated_in_place(cmd: ast.AlterTableCmd) -> bool:
    """ADD FOREIGN KEY or ADD CHECK that PostgreSQL proves on every row before it returns."""
    if cmd.subtype != AT.AT_AddConstraint or not isinstance(cmd.def_, ast.Constraint):
        return False
    return cmd.def_.contype in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK) and not cmd.def_.skip_validation


def _alter(node: ast.AlterTableStmt, cmds: list) -> str:
    return deparse(ast.AlterTableStmt(relation=node.relation, cmds=tuple(cmds), objtype=node.objtype))


def _command(subtype, **fields) -> ast.AlterTableCmd:
    return ast.AlterTableCmd(subtype=subtype, behavior=0, **fields)


def _not_null_check(table: str, column: str) -> ast.AlterTableCmd:
    (raw,) = pglast.parse_sql(f"ALTER TABLE t ADD CONSTRAINT c CHECK ({_ident(column)} IS NOT NULL) NOT VALID")
    cmd = raw.stmt.cmds[0]
    cmd.def_.conname = _name(table, column, "not_null_check")  # PostgreSQL 18 names NOT NULL itself *_not_null
    return cmd


def _constraint_name(table: str, constraint: ast.Constraint) -> str:
    """The name PostgreSQL would give an unnamed constraint: table_col…_fkey, table_col_check."""
    if constraint.contype == ConstrType.CONSTR_FOREIGN:
        return _name(table, *(c.sval for c in constraint.fk_attrs), "fkey")
    columns = _Columns()
    columns(constraint.raw_expr)
    return _name(table, *columns.names[:1], "check")


def _name(*parts: str) -> str:
    return "_".join(parts)[:NAME_MAX]


def _ident(name: str) -> str:
    return deparse(ast.ColumnRef(fields=(ast.String(sval=name),)))


class _Columns(Visitor):
    """The column names an expression reads, in order."""

    def __init__(self):
        self.names: list[str] = []

    def visit_ColumnRef(self, ancestors, node):
        last = node.fields[-1]
        if isinstance(last, ast.String):
            self.names.append(last.sval)
