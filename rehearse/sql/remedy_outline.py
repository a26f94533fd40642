"""ALTER COLUMN … TYPE as an outline of expand/contract: a new column kept in step by a trigger, backfilled in
batches, the application switched, the old column dropped. Written, not run: its steps are separate deploys
with application changes between them, which one rehearsal cannot stand for. The outline parses as SQL (its
prose is comments), so a reviewer can copy its statements."""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.stream import RawStream
from pglast.visitors import Visitor

STEPS = """-- Column {column}: expand/contract.
-- 1. Expand: the new column, nullable and without a default (catalogue only, a moment of ACCESS EXCLUSIVE).
ALTER TABLE {table} ADD COLUMN {new} {type};
-- 2. Keep it in step: every row written from now on gets the new value too.
CREATE FUNCTION {sync}() RETURNS trigger LANGUAGE plpgsql AS $sync$
BEGIN
    NEW.{new} := {from_new};
    RETURN NEW;
END
$sync$;
CREATE TRIGGER {sync} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {sync}();
-- 3. Backfill the older rows in keyed batches, each committed (as the batched UPDATE remedy does):
--    UPDATE {table} SET {new} = {value} WHERE <key range>;
-- 4. Rebuild on the new column what the old one carries, without long locks: NOT NULL as a CHECK added
--    NOT VALID + VALIDATE, indexes CREATE INDEX CONCURRENTLY, constraints NOT VALID + VALIDATE.
-- 5. Deploy the application reading the new column (the trigger still copies its writes to the old one).
-- 6. Contract, in one short transaction (with a short lock_timeout, retried):
BEGIN;
ALTER TABLE {table} DROP COLUMN {column};
ALTER TABLE {table} RENAME COLUMN {new} TO {column};
DROP TRIGGER {sync} ON {table};
DROP FUNCTION {sync}();
COMMIT;
"""


def outline(node: ast.AlterTableStmt, written: str) -> str:
    """The outline for each column whose type the statement changes; `written`: the statement as written."""
    head = (
        f"-- Expand/contract instead of: {' '.join(written.split())}\n"
        "-- Written, not run: each numbered step is a deploy of its own, and the application changes between them.\n"
    )
    others = [c for c in node.cmds if c.subtype != AT.AT_AlterColumnType]
    if others:
        head += "-- The statement's other changes are not in this outline: run them on their own.\n"
    return head + "".join(_column(node, cmd) for cmd in node.cmds if cmd.subtype == AT.AT_AlterColumnType)


def _column(node: ast.AlterTableStmt, cmd: ast.AlterTableCmd) -> str:
    table = node.relation.relname
    column = _ident(cmd.name)
    new_type = RawStream()(cmd.def_.typeName)
    using = cmd.def_.raw_default
    value = RawStream()(using) if using is not None else f"CAST({column} AS {new_type})"
    if using is not None:
        _FromNew()(using)  # the trigger reads the row being written: its columns as NEW.column
    from_new = RawStream()(using) if using is not None else f"CAST(NEW.{column} AS {new_type})"
    return STEPS.format(
        column=column,
        table=RawStream()(ast.RangeVar(relname=table, schemaname=node.relation.schemaname, inh=True)),
        new=_ident(f"{cmd.name}_new"),
        type=new_type,
        sync=_ident(f"{table}_{cmd.name}_sync"[:63]),
        value=value,
        from_new=from_new,
    )


def _ident(name: str) -> str:
    return RawStream()(ast.ColumnRef(fields=(ast.String(sval=name),)))


class _FromNew(Visitor):
    """Unqualified column references become NEW.column (in place)."""

    def visit_ColumnRef(self, ancestors, node):
        if len(node.fields) == 1 and isinstance(node.fields[0], ast.String):
            node.fields = (ast.String(sval="new"), node.fields[0])
