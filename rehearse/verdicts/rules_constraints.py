"""Static rules for constraints PostgreSQL proves under AccessExclusiveLock (R014–R017).

ALTER TABLE … ADD CONSTRAINT takes AccessExclusiveLock (tablecmds.c, AlterTableGetLockLevel) and, unless
told otherwise, proves the constraint before it returns: UNIQUE and PRIMARY KEY build their index, EXCLUDE
builds its index and checks every pair, CHECK reads every row, and PRIMARY KEY USING INDEX sets NOT NULL on
its columns, which reads every row when a column is nullable. Nobody reads or writes the table meanwhile.
The parse tree cannot see nullability or data, so these are suspicions: where the rehearsal measured no
scan, the measurement wins (rehearse/verdicts/rules_measured.py).
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType

from rehearse.sql.lock_rules import as_node, name


def _added(walk, node) -> list[tuple[str, ast.Constraint]]:
    """(table, constraint) for each ADD CONSTRAINT on a table that existed before the migration."""
    if not isinstance(node, ast.AlterTableStmt) or not walk.existing(name(node.relation)):
        return []
    return [
        (name(node.relation), cmd.def_)
        for cmd in node.cmds
        if cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint)
    ]


def _short(table: str) -> str:
    return table.removeprefix("public.")


def _unique(walk, st, node):
    kinds = {ConstrType.CONSTR_UNIQUE: "UNIQUE", ConstrType.CONSTR_PRIMARY: "PRIMARY KEY"}
    return [
        (
            "R014-unique-built-in-place",
            f"adds {kinds[c.contype]} to {_short(t)} by building its index under AccessExclusiveLock: nobody reads "
            f"or writes {_short(t)} until the build ends",
            {"table": t},
        )
        for t, c in _added(walk, node)
        if c.contype in kinds and not c.indexname
    ]


def _exclusion(walk, st, node):
    return [
        (
            "R015-exclusion-built-in-place",
            f"adds an EXCLUDE constraint to {_short(t)}: its index is built and every row checked under "
            f"AccessExclusiveLock, and PostgreSQL has no CONCURRENTLY form for it",
            {"table": t},
        )
        for t, c in _added(walk, node)
        if c.contype == ConstrType.CONSTR_EXCLUSION
    ]


def _check(walk, st, node):
    return [
        (
            "R016-check-validated-in-place",
            f"adds CHECK {c.conname or ''} to {_short(t)} without NOT VALID: every row is read under "
            f"AccessExclusiveLock before it returns",
            {"table": t},
        )
        for t, c in _added(walk, node)
        if c.contype == ConstrType.CONSTR_CHECK and not c.skip_validation
    ]


def _primary_key_using_index(walk, st, node):
    return [
        (
            "R017-primary-key-not-null-scan",
            f"adds PRIMARY KEY USING INDEX {c.indexname} to {_short(t)}: PostgreSQL sets its columns NOT NULL, "
            f"reading every row under AccessExclusiveLock when one is nullable",
            {"table": t},
        )
        for t, c in _added(walk, node)
        if c.contype == ConstrType.CONSTR_PRIMARY and c.indexname and not _proved_not_null(walk, st, t, c.indexname)
    ]


def _proved_not_null(walk, st, table: str, index: str) -> bool:
    """Whether the migration built `index` and set every one of its columns NOT NULL before `st`."""
    columns, not_null = None, set()
    for earlier in (s for s in walk.statements if s.index < st.index):
        node = as_node(earlier.sql)
        if isinstance(node, ast.IndexStmt) and node.idxname == index:
            columns = {p.name for p in node.indexParams}
        elif isinstance(node, ast.AlterTableStmt) and name(node.relation) == table:
            not_null |= {cmd.name for cmd in node.cmds if cmd.subtype == AT.AT_SetNotNull}
    return columns is not None and None not in columns and columns <= not_null


RULES = (_unique, _exclusion, _check, _primary_key_using_index)
