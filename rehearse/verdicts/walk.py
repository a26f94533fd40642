"""What earlier statements of a migration established, as the static rules walk it: tables it created,
lock_timeout in force, NOT NULL CHECKs it validated."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, NullTestType, VariableSetKind

from rehearse.sql.lock_rules import name

NO_WORK = {"BEGIN", "COMMIT", "ROLLBACK", "SET", "RESET", "SAVEPOINT", "RELEASE", "SHOW", "PREPARE TRANSACTION"}


class MigrationWalk:
    """What earlier statements established: tables they created, lock_timeout, validated NOT NULL CHECKs."""

    def __init__(self, migration, timeout_from_config: bool):
        self.statements = migration.statements
        self.new_tables: set[str] = set()
        self.session_timeout = timeout_from_config
        self.local_timeout_tx = 0
        self.not_null_checks: dict[tuple[str, str], str] = {}  # (table, constraint) -> column, NOT VALID
        self.checked_columns: set[tuple[str, str]] = set()  # (table, column) with a validated CHECK

    def before(self, st, node) -> None:
        # A table the migration creates is nobody's yet: its locks block no one, its rows are none.
        if isinstance(node, ast.CreateStmt):
            self.new_tables.add(name(node.relation))
        elif isinstance(node, ast.CreateTableAsStmt):
            self.new_tables.add(name(node.into.rel))

    def after(self, st, node) -> None:
        if isinstance(node, ast.VariableSetStmt) and node.name in ("lock_timeout", None):
            self._timeout(st, node)
        if isinstance(node, ast.AlterTableStmt):
            for cmd in node.cmds:
                self._checks(name(node.relation), cmd)

    def existing(self, relation: str) -> bool:
        return relation not in self.new_tables

    def has_timeout(self, st) -> bool:
        return self.session_timeout or bool(st.transaction and self.local_timeout_tx == st.transaction)

    def later_work(self, st):
        """The first statement after `st` in the same transaction that does work, or None."""
        if not st.transaction:
            return None
        return next(
            (
                s
                for s in self.statements
                if s.transaction == st.transaction and s.index > st.index and s.kind not in NO_WORK
            ),
            None,
        )

    def _timeout(self, st, node: ast.VariableSetStmt) -> None:
        value = node.args[0].val if node.kind == VariableSetKind.VAR_SET_VALUE and node.args else None
        text = next((str(getattr(value, a)) for a in ("sval", "ival", "fval") if hasattr(value, a)), "0")
        on = value is not None and text.strip() not in ("0", "0.0", "")  # 0 means "wait forever"
        if node.is_local:  # SET LOCAL lasts until its transaction ends; outside a block it does nothing
            self.local_timeout_tx = st.transaction if on else 0
        else:
            self.session_timeout = on

    def _checks(self, table: str, cmd: ast.AlterTableCmd) -> None:
        if cmd.subtype == AT.AT_AddConstraint and (column := not_null_check(cmd.def_)):
            if cmd.def_.skip_validation:
                self.not_null_checks[(table, cmd.def_.conname)] = column
            else:
                self.checked_columns.add((table, column))
        elif cmd.subtype == AT.AT_ValidateConstraint and (table, cmd.name) in self.not_null_checks:
            self.checked_columns.add((table, self.not_null_checks[(table, cmd.name)]))


def not_null_check(constraint) -> str | None:
    """The column of a CHECK (col IS NOT NULL) constraint, else None."""
    if not (isinstance(constraint, ast.Constraint) and constraint.contype == ConstrType.CONSTR_CHECK):
        return None
    expr = constraint.raw_expr
    if (
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
    ):
        return expr.arg.fields[-1].sval
    return None
