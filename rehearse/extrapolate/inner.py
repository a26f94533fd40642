"""The query PostgreSQL runs inside a statement that validates or writes rows, as SQL one can EXPLAIN.

A statement's time at production size depends on the plan of that inner query, and a plan can change with
size (a FK validation: hash anti join up to ~5 M orders, merge anti join beyond). These are the queries:

* ADD FOREIGN KEY (valid) and VALIDATE CONSTRAINT of a FK: the anti-join RI_Initial_Check (ri_triggers.c)
  runs, `SELECT fk.cols FROM ONLY child fk LEFT JOIN ONLY parent pk ON … WHERE pk.k IS NULL AND fk.cols IS
  NOT NULL` (MATCH SIMPLE), planned without parallel workers, work_mem raised to maintenance_work_mem;
* ADD CHECK (valid) and VALIDATE CONSTRAINT of a CHECK: a scan of every row testing the expression,
  `SELECT FROM ONLY t WHERE NOT (expr)` (validateCheckConstraint scans; the plan is a Seq Scan at any size);
* UPDATE and DELETE: the statement itself.

Pure: names the catalogue must resolve (a FK's implicit key columns, a constraint VALIDATE names) come from
`lookup`, which the caller backs with a connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream

SERIAL = ("SET LOCAL max_parallel_workers_per_gather = 0",)  # validateCheckConstraint scans in one process
# the settings RI_Initial_Check plans under (set for the check's duration)
RI_SETTINGS = (
    *SERIAL,
    "SELECT set_config('work_mem', current_setting('maintenance_work_mem'), true)",
)


@dataclass(frozen=True)
class Inner:
    """The inner query of one statement: what it does, on which table, and the settings it is planned under."""

    what: str  # 'foreign-key validation' | 'check validation' | 'UPDATE' | 'DELETE'
    table: str  # as written (schema-qualified when the statement was)
    sql: str
    settings: tuple[str, ...] = ()

    @property
    def reads_only(self) -> bool:
        """A SELECT: it may be run (timed) on a clone; a DML statement is only EXPLAINed."""
        return self.what.endswith("validation")


class Lookup:
    """What the catalogue answers: a table's primary key columns, a named constraint's definition."""

    def __init__(self, primary_key: Callable[[str], list[str]], definition: Callable[[str, str], str]):
        self.primary_key, self.definition = primary_key, definition


def inner_query(sql: str, lookup: Lookup | None = None) -> Inner | None:
    """The inner query of `sql`, or None when it has none that grows with a table (or cannot be built)."""
    try:
        (raw,) = pglast.parse_sql(sql)
    except (pglast.parser.ParseError, ValueError):
        return None
    node = raw.stmt
    if isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        what = "UPDATE" if isinstance(node, ast.UpdateStmt) else "DELETE"
        return Inner(what, RawStream()(node.relation), sql.strip().rstrip(";"))
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            found = _validating(node.relation, cmd, lookup)
            if found:
                return found
    return None


def _validating(relation: ast.RangeVar, cmd, lookup: Lookup | None) -> Inner | None:
    table = RawStream()(relation)
    if cmd.subtype == AlterTableType.AT_ValidateConstraint and lookup is not None:
        definition = lookup.definition(table, cmd.name)
        return inner_query(f"ALTER TABLE {table} ADD {definition}", lookup) if definition else None
    con = cmd.def_
    if cmd.subtype != AlterTableType.AT_AddConstraint or not isinstance(con, ast.Constraint) or con.skip_validation:
        return None
    if con.contype == ConstrType.CONSTR_CHECK:
        query = f"SELECT FROM ONLY {table} WHERE NOT ({RawStream()(con.raw_expr)})"
        return Inner("check validation", table, query, SERIAL)
    if con.contype == ConstrType.CONSTR_FOREIGN:
        return _foreign_key(table, con, lookup)
    return None


def _foreign_key(table: str, con: ast.Constraint, lookup: Lookup | None) -> Inner | None:
    parent = RawStream()(con.pktable)
    fk = [s.sval for s in con.fk_attrs]
    pk = [s.sval for s in con.pk_attrs or ()] or (lookup.primary_key(parent) if lookup else [])
    if len(pk) != len(fk):
        return None
    on = " AND ".join(f"pk.{_ident(k)} = fk.{_ident(c)}" for k, c in zip(pk, fk))
    not_null = " AND ".join(f"fk.{_ident(c)} IS NOT NULL" for c in fk)
    query = (
        f"SELECT {', '.join(f'fk.{_ident(c)}' for c in fk)} FROM ONLY {table} fk LEFT JOIN ONLY {parent} pk "
        f"ON {on} WHERE pk.{_ident(pk[0])} IS NULL AND ({not_null})"
    )
    return Inner("foreign-key validation", table, query, RI_SETTINGS)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
