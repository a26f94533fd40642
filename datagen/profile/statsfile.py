"""A `pg_dump --statistics-only` file (PostgreSQL 18) read, never executed: the named arguments of its
`pg_restore_relation_stats(…)` and `pg_restore_attribute_stats(…)` calls, taken from pglast's parse tree.

Each call is `SELECT * FROM pg_catalog.pg_restore_…_stats('name', 'value'::type, …)`: pairs of a name and
a constant. Statistics of indexes, views and materialized views are skipped; those of a relation the
schema does not have are bad input, since the two files must come from the same database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast

from common.errors import BadInput
from datagen.profile.arrays import parse_array
from datagen.profile.schemafile import Schema, parse
from datagen.profile.session import strip_meta_commands

FIX = "make both files with pg_dump 18 from the same database (--schema-only, --statistics-only)"


@dataclass
class Statistics:
    """Per table: pg_class numbers, and per column the pg_stats fields, as the file gives them."""

    relations: dict[str, dict] = field(default_factory=dict)  # qualified → {relpages, reltuples}
    attributes: dict[str, dict[str, dict]] = field(default_factory=dict)  # qualified → column → fields
    version_num: int | None = None


def read_statistics(path: str, text: str, schema: Schema) -> Statistics:
    stats = Statistics()
    sql = strip_meta_commands(text)
    calls = [call for raw in parse("--statistics", path, sql) if (call := _restore_call(raw.stmt))]
    if not calls:
        raise BadInput(f"--statistics {path} has no pg_restore_relation_stats call; {FIX}")
    for function, args in calls:
        table = f"{args.get('schemaname') or 'public'}.{args.get('relname')}"
        stats.version_num = int(args["version"]) if args.get("version") else stats.version_num
        if table in schema.other_relations:
            continue
        if table not in schema.tables:
            raise BadInput(f"--statistics {path} has statistics for {table}, which --schema does not create; {FIX}")
        if function == "pg_restore_relation_stats":
            stats.relations[table] = args
        elif _own_row(args, schema.tables[table][0]):
            _attribute(stats, table, args, schema, path)
    return stats


def _restore_call(stmt) -> tuple[str, dict] | None:
    """(function name, {argument: text or None}) of a pg_restore_*_stats call, else None."""
    if not isinstance(stmt, ast.SelectStmt) or not stmt.fromClause:
        return None
    source = stmt.fromClause[0]
    if not isinstance(source, ast.RangeFunction):
        return None
    call = source.functions[0][0]
    name = call.funcname[-1].sval if isinstance(call, ast.FuncCall) else None
    if name not in ("pg_restore_relation_stats", "pg_restore_attribute_stats"):
        return None
    args = list(call.args or ())
    return name, {_constant(args[i]): _constant(args[i + 1]) for i in range(0, len(args) - 1, 2)}


def _constant(node) -> str | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    return str(getattr(value, "sval", None) or getattr(value, "fval", None) or getattr(value, "ival", ""))


def _own_row(args: dict, kind: str) -> bool:
    """A partitioned parent's statistics are those of its tree (inherited); a plain table's its own."""
    return args.get("attname") is not None and (args.get("inherited") in ("t", "true")) == (kind == "p")


def _attribute(stats: Statistics, table: str, args: dict, schema: Schema, path: str) -> None:
    column = args["attname"]
    if column not in {c.name for c in schema.tables[table][1]}:
        raise BadInput(f"--statistics {path} has statistics for {table}.{column}, a column --schema lacks; {FIX}")
    fields_ = {}
    for name, kind in (("null_frac", float), ("avg_width", int), ("n_distinct", float), ("correlation", float)):
        fields_[name] = None if args.get(name) is None else kind(args[name])
    for name in ("most_common_vals", "histogram_bounds"):
        fields_[name] = None if args.get(name) is None else tuple(parse_array(args[name]))
    freqs = args.get("most_common_freqs")
    fields_["most_common_freqs"] = None if freqs is None else tuple(float(v) for v in parse_array(freqs))
    stats.attributes.setdefault(table, {})[column] = fields_
