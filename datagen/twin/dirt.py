"""Dirt for any schema: orphans for a foreign key, duplicates for a unique key, NULLs for a NOT NULL column.

Each is named (the constraint, the unique index, or table.column) with a share of the table's rows. The
rows are made clean, then after the load and before the post-data schema the first rows in key order are
dirtied by one UPDATE each, so the same profile, scale, seed and dirt give the same dirty rows. The
constraint the dirt breaks is then added NOT VALID (a foreign key) or left out (a unique key, a NOT NULL),
so the build succeeds and a migration that adds or validates it meets the failure production would.
"""

from __future__ import annotations

from dataclasses import dataclass

import pglast
import psycopg
from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from psycopg import sql

from common.errors import BadInput
from datagen.twin.schema import Split

KINDS = ("orphans", "duplicates", "nulls")


@dataclass(frozen=True)
class Dirt:
    """One kind of dirt: `orphans` (a foreign key's name), `duplicates` (a unique constraint's or index's
    name), `nulls` (schema.table.column or table.column of a NOT NULL column), at `rate` of the rows."""

    kind: str
    target: str
    rate: float

    def check(self) -> Dirt:
        if self.kind not in KINDS:
            raise BadInput(f"dirt kind {self.kind!r} is not one of {', '.join(KINDS)}; use one of those")
        if not 0 < self.rate <= 0.5:
            raise BadInput(f"dirt rate {self.rate!r} for {self.target} is outside (0, 0.5]; give e.g. 0.01")
        return self


@dataclass
class Target:
    """What the dirt changes: the table, its columns, and for orphans the parent table and columns."""

    table: str
    columns: tuple[str, ...]
    statement: str | None = None  # the post-data statement that adds the broken constraint
    parent: tuple[str, tuple[str, ...]] | None = None


def resolve(split: Split, dirt: Dirt) -> Target:
    """Find the constraint or column in the schema; unknown names fail before the build starts."""
    if dirt.kind == "nulls":
        *table, column = dirt.target.split(".")
        if not table:
            raise BadInput(f"dirt nulls {dirt.target!r} names no table; give table.column")
        return Target(".".join(table) if len(table) == 2 else f"public.{table[0]}", (column,))
    for statement in split.post:
        found = _constraint(statement, dirt)
        if found is not None:
            return found
    raise BadInput(
        f"dirt {dirt.kind} names {dirt.target}, which is not a "
        f"{'foreign key' if dirt.kind == 'orphans' else 'unique key or unique index'} of the schema; "
        "give the constraint's name as pg_dump shows it"
    )


def _constraint(statement: str, dirt: Dirt) -> Target | None:
    node = pglast.parse_sql(statement)[0].stmt
    if isinstance(node, ast.IndexStmt) and node.unique and node.idxname == dirt.target and dirt.kind == "duplicates":
        columns = tuple(p.name for p in node.indexParams if p.name)
        return Target(_name(node.relation), columns, statement)
    if not isinstance(node, ast.AlterTableStmt):
        return None
    for cmd in node.cmds:
        con = cmd.def_
        if cmd.subtype != AlterTableType.AT_AddConstraint or con.conname != dirt.target:
            continue
        columns = tuple(k.sval for k in (con.fk_attrs if con.contype == ConstrType.CONSTR_FOREIGN else con.keys or ()))
        if dirt.kind == "orphans" and con.contype == ConstrType.CONSTR_FOREIGN:
            parent = (_name(con.pktable), tuple(a.sval for a in con.pk_attrs or ()))
            return Target(_name(node.relation), columns, statement, parent)
        if dirt.kind == "duplicates" and con.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            return Target(_name(node.relation), columns, statement)
    return None


def _name(rel) -> str:
    return f"{rel.schemaname or 'public'}.{rel.relname}"


def prepare(conn: psycopg.Connection, split: Split, targets: list[tuple[Dirt, Target]]) -> None:
    """Before the load: NOT NULL dropped where NULLs will go; the broken keys left out of, and the broken
    foreign keys made NOT VALID in, the post-data schema."""
    for dirt, target in targets:
        if dirt.kind == "nulls":
            conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(_table(target), _id(target)))
        elif dirt.kind == "duplicates":
            split.post.remove(target.statement)
        else:
            index = split.post.index(target.statement)
            split.post[index] = target.statement.rstrip().rstrip(";") + " NOT VALID"


def apply(conn: psycopg.Connection, targets: list[tuple[Dirt, Target]], rows: dict[str, int]) -> dict[str, int]:
    """After the load: dirty the first rows in key order; the counts achieved, measured, by name."""
    achieved = {}
    for dirt, target in targets:
        n = round(dirt.rate * rows.get(target.table, 0))
        _UPDATES[dirt.kind](conn, target, n)
        achieved[f"{dirt.kind}:{dirt.target}"] = int(conn.execute(_COUNTS[dirt.kind](target)).fetchone()[0])
    return achieved


def _table(target: Target) -> sql.Composable:
    return sql.Identifier(*target.table.split(".", 1))


def _id(target: Target) -> sql.Composable:
    return sql.Identifier(target.columns[0])


def _first(target: Target, n: int) -> sql.Composable:
    """The first n rows (non-NULL key) in key order, numbered from 0: deterministic wherever rows landed."""
    keys = sql.SQL(", ").join(sql.Identifier(c) for c in target.columns)
    return sql.SQL(
        "SELECT ctid, row_number() OVER (ORDER BY {k}) - 1 AS r FROM {t} WHERE {c} IS NOT NULL ORDER BY {k} LIMIT {n}"
    ).format(k=keys, t=_table(target), c=_id(target), n=sql.Literal(n))


def _nulls(conn, target: Target, n: int) -> None:
    query = "UPDATE {t} SET {c} = NULL WHERE ctid IN (SELECT ctid FROM ({first}) f)"
    conn.execute(sql.SQL(query).format(t=_table(target), c=_id(target), first=_first(target, n)))


def _duplicates(conn, target: Target, n: int) -> None:
    """Rows 2i+1 in key order take the key of row 2i: n rows whose key another row has."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in target.columns)
    query = """
    WITH pairs AS MATERIALIZED ({first})
    UPDATE {t} x SET ({cols}) = (SELECT {cols} FROM {t} s WHERE s.ctid = a.ctid)
    FROM pairs a JOIN pairs b ON b.r = a.r + 1 WHERE x.ctid = b.ctid AND b.r % 2 = 1"""
    conn.execute(sql.SQL(query).format(cols=cols, t=_table(target), first=_first(target, 2 * n)))


INTEGERS = ("smallint", "integer", "bigint")


def _orphans(conn, target: Target, n: int) -> None:
    """Values the parent does not hold: past its largest number, or text/uuid made from a counter."""
    parent, key = target.parent[0], (target.parent[1] or target.columns)[0]
    shown = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
        (target.table, target.columns[0]),
    ).fetchone()[0]
    if shown in INTEGERS:
        value = sql.SQL("(SELECT coalesce(max({}), 0) FROM {}) + 1 + pick.r").format(
            sql.Identifier(key), sql.Identifier(*parent.split(".", 1))
        )
    elif shown == "uuid":
        value = sql.SQL("md5('orphan' || pick.r)::uuid")
    else:
        value = sql.SQL("('orphan-' || pick.r)::{}").format(sql.SQL(shown))
    query = "WITH pick AS MATERIALIZED ({first}) UPDATE {t} x SET {c} = {value} FROM pick WHERE x.ctid = pick.ctid"
    conn.execute(sql.SQL(query).format(first=_first(target, n), t=_table(target), c=_id(target), value=value))


def _orphan_count(t: Target) -> sql.Composable:
    parent, key = sql.Identifier(*t.parent[0].split(".", 1)), sql.Identifier((t.parent[1] or t.columns)[0])
    return sql.SQL(
        "SELECT count(*) FROM {} c WHERE c.{} IS NOT NULL AND NOT EXISTS (SELECT FROM {} p WHERE p.{} = c.{})"
    ).format(_table(t), _id(t), parent, key, _id(t))


_UPDATES = {"nulls": _nulls, "duplicates": _duplicates, "orphans": _orphans}
_COUNTS = {
    "nulls": lambda t: sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(_table(t), _id(t)),
    "duplicates": lambda t: sql.SQL("SELECT count(*) - count(DISTINCT ({})) FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in t.columns), _table(t)
    ),
    "orphans": _orphan_count,
}
