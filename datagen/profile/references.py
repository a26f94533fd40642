"""References the schema does not declare, found as a DBA would: `order_items.order_id` names the key of
`orders`, so its values are order ids, foreign key or not.

A column is taken to reference a parent key when (1) it is in no foreign key and is not its own table's
single-column key; (2) its name equals the single-column primary or unique key column of exactly one other
table, or it is `<table, singular>_id` and that table's single-column key is `id`; (3) both are of one type
family (integers, uuid, text); (4) its statistics agree: its distinct count is at most the parent's rows,
and an integer column's MCVs and histogram bounds lie within the parent key's range (10 % slack either
side: both come from samples). With no statistics to compare, the name decides. A declared foreign key always
wins; a composite parent key is never a target; a leaf partition is neither (its root's key and references
stand for it). The twin draws such a column from the parent's keys, and adds
no constraint (the schema stays the user's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from common.errors import BadInput
from datagen.profile.model import Column, Profile, Reference, Table

INTEGERS = ("smallint", "integer", "bigint")
TEXTS = ("text", "character varying", "character")
GIVEN = "given (--reference)"  # a Reference's evidence when a user named it
SLACK = 0.10  # parent range widened by this share of its width, and its rows by this share


def attach(profile: Profile, infer: bool = True, given: Iterable[str] = ()) -> Profile:
    """`profile` with its references: the ones `given` as "child.col=parent.col", then, when `infer`, the
    ones the name rule finds; a declared foreign key is never overridden."""
    keys, foreign, partitions = _keys(profile.schema_sql)
    found = [_given(profile, text, foreign) for text in given]
    if infer:
        taken = {(r.table, r.column) for r in found}
        keys = {t: c for t, c in keys.items() if t not in partitions}  # the partitioned root stands for them
        inferred = _inferred(profile, keys, foreign | {(t, "*") for t in partitions})
        found += [r for r in inferred if (r.table, r.column) not in taken]
    return replace(profile, inferred_references=tuple(found))


def revise(profile: Profile, infer: bool = True, given: Iterable[str] = ()) -> Profile:
    """`profile` with its references corrected at build time (`rehearse datagen --profile`), without
    profiling production again: when not `infer`, the inferred ones are dropped (given ones stay); each
    of `given` is added, replacing whatever the profile had for that column."""
    _, foreign, _ = _keys(profile.schema_sql)
    added = [_given(profile, text, foreign) for text in given]
    taken = {(r.table, r.column) for r in added}
    kept = [r for r in profile.inferred_references or () if (r.table, r.column) not in taken]
    kept = kept if infer else [r for r in kept if r.evidence == GIVEN]
    return replace(profile, inferred_references=tuple(added + kept))


def _inferred(profile: Profile, keys: dict[str, set[str]], foreign: set[tuple[str, str]]) -> list[Reference]:
    by_name: dict[str, list[tuple[str, str]]] = {}
    for table, columns in keys.items():
        for column in columns:
            by_name.setdefault(column, []).append((table, column))
            if column == "id":
                by_name.setdefault(f"{_singular(table.split('.', 1)[1])}_id", []).append((table, column))
    found = []
    for table in profile.tables:
        for column in table.columns:
            skip = {(table.qualified, column.name), (table.qualified, "*")} & foreign
            if skip or column.name in keys.get(table.qualified, ()):
                continue
            parents = {p for p in by_name.get(column.name, ()) if p[0] != table.qualified}
            if len(parents) == 1:
                ((parent_table, parent_column),) = parents
                evidence = _evidence(profile, table, column, parent_table, parent_column)
                if evidence:
                    found.append(Reference(table.qualified, column.name, parent_table, parent_column, evidence))
    return found


def _evidence(profile: Profile, table: Table, column: Column, parent_table: str, parent_column: str) -> str | None:
    """Why the statistics allow the reference (None: they contradict it, or the types differ)."""
    try:
        parent = profile.table(parent_table)
        key = parent.column(parent_column)
    except StopIteration:
        return None
    if _family(column.type) is None or _family(column.type) != _family(key.type):
        return None
    distinct = column.n_distinct if column.n_distinct is None or column.n_distinct >= 0 else None
    if column.n_distinct is not None and column.n_distinct < 0:
        distinct = -column.n_distinct * max(0.0, table.reltuples)
    distinct = distinct if parent.reltuples >= 0 else None  # an unknown parent size checks nothing
    if distinct is not None and distinct > parent.reltuples * (1 + SLACK) + 1:
        return None
    inside = _within(column, key) if _family(column.type) == "int" else None
    if inside is False:
        return None
    checked = [f"distinct {distinct:,.0f} ≤ {parent.reltuples:,.0f} parent rows"] if distinct is not None else []
    checked += ["values within the parent key's range"] if inside else []
    return "name; " + ("; ".join(checked) if checked else "no statistics to check")


def _within(column: Column, key: Column) -> bool | None:
    """The child's sampled values inside the parent key's sampled range (None: too few statistics)."""
    child, parent = _numbers(column), _numbers(key)
    if not child or not parent:
        return None
    low, high = min(parent), max(parent)
    slack = SLACK * (high - low) + 1
    return low - slack <= min(child) and max(child) <= high + slack


def _numbers(column: Column) -> list[int]:
    values = [*(column.histogram_bounds or ()), *(column.most_common_vals or ())]
    try:
        return [int(v) for v in values if v is not None]
    except ValueError:
        return []


def _family(type_text: str) -> str | None:
    if type_text in INTEGERS:
        return "int"
    if type_text == "uuid":
        return "uuid"
    return "text" if type_text.split("(")[0] in TEXTS else None


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _given(profile: Profile, text: str, foreign: set[tuple[str, str]]) -> Reference:
    """One `--reference child_table.column=parent_table.column`, checked against the profile."""
    fix = "give --reference child_table.column=parent_table.column, e.g. order_items.order_id=orders.order_id"
    try:
        child, parent = (_column_of(profile, side.strip()) for side in text.split("="))
    except ValueError:
        raise BadInput(f"--reference {text}: {fix}") from None
    except LookupError as exc:
        raise BadInput(f"--reference {text}: the profile has no column {exc.args[0]}; {fix}") from None
    if child in foreign:
        raise BadInput(f"--reference {text}: {child[0]}.{child[1]} already has a foreign key; leave it out")
    return Reference(*child, *parent, GIVEN)


def _column_of(profile: Profile, dotted: str) -> tuple[str, str]:
    table, _, column = dotted.rpartition(".")
    if not table or not column:
        raise ValueError(dotted)
    try:
        found = profile.table(table)
        found.column(column)
    except StopIteration:
        raise LookupError(dotted) from None
    return found.qualified, column


def _keys(schema_sql: str) -> tuple[dict[str, set[str]], set[tuple[str, str]], set[str]]:
    """Single-column primary/unique keys per table, every (table, column) in a foreign key, and the leaf
    partitions (their root's references are theirs in the twin)."""
    text = "\n".join(line for line in schema_sql.splitlines() if not line.startswith("\\"))
    keys: dict[str, set[str]] = {}
    foreign: set[tuple[str, str]] = set()
    partitions: set[str] = set()
    for statement in pglast.parse_sql(text):
        node = statement.stmt
        if isinstance(node, ast.CreateStmt) and node.partbound is not None:
            partitions.add(_name(node.relation))
        if isinstance(node, ast.AlterTableStmt):
            partitions.update(_name(c.def_.name) for c in node.cmds if c.subtype == AlterTableType.AT_AttachPartition)
            constraints = [c.def_ for c in node.cmds if c.subtype == AlterTableType.AT_AddConstraint]
        elif isinstance(node, ast.CreateStmt):
            constraints = _inline(node)
        elif isinstance(node, ast.IndexStmt) and node.unique and node.whereClause is None:
            names = [p.name for p in node.indexParams]
            if len(names) == 1 and names[0]:
                keys.setdefault(_name(node.relation), set()).add(names[0])
            continue
        else:
            continue
        for con in constraints:
            _constraint(_name(node.relation), con, keys, foreign)
    return keys, foreign, partitions


def _inline(node: ast.CreateStmt) -> list:
    """A CREATE TABLE's own constraints, a column's given its column name as keys."""
    found = []
    for element in node.tableElts or ():
        if isinstance(element, ast.Constraint):
            found.append(element)
        elif isinstance(element, ast.ColumnDef):
            for con in element.constraints or ():
                found.append((element.colname, con))
    return found


def _constraint(table: str, con, keys: dict[str, set[str]], foreign: set[tuple[str, str]]) -> None:
    column, con = con if isinstance(con, tuple) else (None, con)
    if not isinstance(con, ast.Constraint):
        return
    if con.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
        names = [k.sval for k in con.keys or ()] or [column]
        if len(names) == 1 and names[0]:
            keys.setdefault(table, set()).add(names[0])
    elif con.contype == ConstrType.CONSTR_FOREIGN:
        foreign.update((table, a.sval) for a in con.fk_attrs or ())
        if column and not con.fk_attrs:
            foreign.add((table, column))


def _name(rel) -> str:
    return f"{rel.schemaname or 'public'}.{rel.relname}"
