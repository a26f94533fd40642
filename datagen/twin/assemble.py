"""From profile + schema to table plans: rows, keys, foreign keys, CHECK bounds per column."""

from __future__ import annotations

import math

import psycopg

from common.errors import BadInput
from datagen.profile.model import Profile
from datagen.twin import binary, catalog, checks, values
from datagen.twin.chunk import TablePlan
from datagen.twin.plan import ColumnPlan, attach_parent, column_plan, table_rows
from datagen.twin.schema import Split


def plans(conn: psycopg.Connection, profile: Profile, split: Split, scale: float) -> list[TablePlan]:
    """Every profile table that takes rows, in the profile's order; bad input is raised before any load."""
    unique = _unique_columns(split)
    result: dict[str, TablePlan] = {}
    for table in profile.tables:
        found = catalog.relation(conn, table.qualified)
        if found is None:
            raise BadInput(
                f"the profile has statistics for table {table.qualified}, which is not in its schema; "
                "make the profile again, or remove the table from it"
            )
        if found[0] != "r":
            continue  # a partitioned table's rows are its leaf partitions'; views hold none
        bound, root = catalog.partition(conn, table.qualified) if found[1] else (None, None)
        result[table.qualified] = _table_plan(conn, table, scale, unique, split, (bound, root))
    _foreign_keys(result, split, profile.inferred_references or ())
    for plan in result.values():
        for column in plan.columns:
            values.kind(column)  # an unknown type fails now, before anything is loaded
            column.spread = values.domain_size(column)
    binary.send_mcvs(conn, result.values())
    return list(result.values())


def _table_plan(conn, table, scale: float, unique: dict, split: Split, partition: tuple) -> TablePlan:
    """A table, or a leaf partition: its own rows and statistics, its root's keys and checks, and values
    inside its bounds (the partition constraint read like a CHECK)."""
    bound, root = partition
    rows = table_rows(table.reltuples, scale)
    stats = {c.name: c for c in table.columns}
    own = [e for t, e in split.checks if t in (table.qualified, root)] + ([bound] if bound else [])
    bounds = checks.read(catalog.checks(conn, table.qualified) + own)
    keys = unique.get(table.qualified, set()) | unique.get(root, set())
    columns = []
    for info in catalog.columns(conn, table.qualified):
        if info.generated:
            continue
        single, bound = (info.name,) in keys, bounds.columns.get(info.name)
        plan = column_plan(table.qualified, info, stats.get(info.name), rows, single, bound)
        values.read_bounds(plan)
        columns.append(plan)
    _composite_keys(columns, keys, rows)
    columns.sort(key=lambda c: not _one_width(c))  # COPY names its columns: runs of one width go first
    return TablePlan(table.qualified, rows, columns, root)


def _one_width(column: ColumnPlan) -> bool:
    """Values of one width and never NULL: encoded side by side as one matrix (_pgbinary.arrow_rows)."""
    fixed = values.kind(column) in ("int", "time", "bool", "uuid", "inet", "cidr", "interval")
    return fixed and column.null_frac == 0 and column.info.base != "numeric"


def _unique_columns(split: Split) -> dict[str, set[tuple[str, ...]]]:
    found: dict[str, set[tuple[str, ...]]] = {}
    for table, columns in split.keys:
        if columns:
            found.setdefault(table, set()).add(columns)
    return found


def _composite_keys(columns: list[ColumnPlan], keys: set[tuple[str, ...]], rows: int) -> None:
    """A multi-column key is unique when one of its columns is; the others keep their statistics.
    Keys made only of foreign-key columns are handled in _foreign_keys (mixed radix)."""
    by_name = {c.name: c for c in columns}
    for key in keys:
        if len(key) > 1 and not any(by_name[n].unique for n in key if n in by_name):
            by_name[key[-1]].composite = key


def _foreign_keys(tables: dict[str, TablePlan], split: Split, references) -> None:
    """Declared foreign keys, then the profile's references (undeclared: values drawn alike, no constraint);
    a column a foreign key already draws keeps its declared parent."""
    declared = {(t, c[0]) for t, c, _, _ in split.foreign if len(c) == 1}
    undeclared = [(r.table, (r.column,), r.parent_table, (r.parent_column,)) for r in references]
    for owner, columns, parent_table, parent_columns in split.foreign + [
        u for u in undeclared if (u[0], u[1][0]) not in declared
    ]:
        for table in [t.name for t in tables.values() if owner in (t.name, t.root)]:
            _foreign_key(tables, split, table, columns, parent_table, parent_columns)
    for plan in tables.values():
        _radix(plan)


def _foreign_key(tables, split: Split, table: str, columns, parent_table: str, parent_columns) -> None:
    if len(columns) != 1:
        raise BadInput(
            f"{table} has a foreign key on ({', '.join(columns)}): multi-column foreign keys are not generated "
            "yet; drop the constraint from the profile's schema_sql"
        )
    child = _column(tables, table, columns[0])
    parent = _column(tables, parent_table, parent_columns[0] if parent_columns else _primary(split, parent_table))
    attach_parent(child, parent)


def _radix(table: TablePlan) -> None:
    """A composite key whose last column has no unique partner: make the rows unique on the whole key
    by enumerating (parent₁ index, parent₂ index, …) in mixed radix, when the parents are large enough."""
    for column in table.columns:
        key = column.composite
        if not key:
            continue
        members = [c for c in table.columns if c.name in key]
        sizes = _radix_sizes(table, key, members)
        divisor = 1
        for member, size in sorted(zip(members, sizes), key=lambda pair: -pair[1]):  # widest varies fastest
            member.radix, member.null_frac, member.mcv, member.freqs = (divisor, size), 0.0, [], []
            member.distinct, member.unique, divisor = size, member.parent is None, divisor * size


def _radix_sizes(table: TablePlan, key: tuple[str, ...], members: list[ColumnPlan]) -> list[int]:
    """Each member's own distinct count, widened towards its limit until the combinations cover the rows."""
    limits = [c.parent.rest_distinct if c.parent is not None else table.rows for c in members]
    sizes = [max(1, min(c.distinct, limit)) for c, limit in zip(members, limits)]
    for i, limit in enumerate(limits):
        if math.prod(sizes) >= table.rows:
            break
        sizes[i] = max(sizes[i], min(limit, -(-table.rows // math.prod(sizes[:i] + sizes[i + 1 :]))))
    if math.prod(sizes) < table.rows:
        raise BadInput(
            f"{table.name} ({', '.join(key)}) cannot be unique for {table.rows} rows: only "
            f"{math.prod(sizes)} combinations exist; choose a smaller --scale"
        )
    return sizes


def _column(tables: dict[str, TablePlan], table: str, name: str) -> ColumnPlan:
    plan = tables.get(table)
    found = [c for c in plan.columns if c.name == name] if plan else []
    if not found:
        raise BadInput(f"foreign key column {table}.{name} is not among the profile's tables; add {table} to it")
    return found[0]


def _primary(split: Split, table: str) -> str:
    keys = [c for t, c in split.keys if t == table and len(c) == 1]
    if not keys:
        raise BadInput(f"a foreign key references {table} without columns and it has no single-column key")
    return keys[0][0]
