"""A one-shot UPDATE rewritten as keyed batches: the same UPDATE, limited to one range of the table's integer
primary key at a time, each range committed before the next (a procedure; CALL runs outside a transaction
block, so its COMMITs end each batch). The key ranges cover the table once, so every row the UPDATE would
change is changed once; unlike the original it is not atomic: a failure part way leaves the batches before it.

Three batch sizes, from the table's rows at the rehearsed scale: the table in about 100, 20 and 5 batches.
Not mechanical, so not offered: no single-column integer key, WHERE CURRENT OF, or a SET of the key itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.enums import BoolExprType
from pglast.stream import RawStream

BATCHES = (100, 20, 5)
PROCEDURE = "rehearse_remedy_batches"
BODY = """CREATE PROCEDURE {procedure}(_rehearse_size bigint)
LANGUAGE plpgsql AS $remedy$
DECLARE
    _rehearse_from bigint;
    _rehearse_last bigint;
BEGIN
    SELECT min({key}), max({key}) INTO _rehearse_from, _rehearse_last FROM {relation};
    WHILE _rehearse_from <= _rehearse_last LOOP
        {update};
        COMMIT;
        _rehearse_from := _rehearse_from + _rehearse_size;
    END LOOP;
END
$remedy$"""


@dataclass(frozen=True)
class TableFacts:
    """What batching a table needs: its single-column integer primary key (None: it has none) and its rows."""

    key: str | None
    rows: int


def table_of(node: ast.UpdateStmt) -> str:
    """The UPDATE's table, schema-qualified ('public' when the statement names none)."""
    return f"{node.relation.schemaname or 'public'}.{node.relation.relname}"


def sizes(rows: int) -> list[int]:
    """Three batch sizes in keys: the table's rows in about 100, 20 and 5 batches."""
    return sorted({max(1, math.ceil(rows / n)) for n in BATCHES})


def batched(node: ast.UpdateStmt, facts: TableFacts | None) -> list[tuple[int, list[str]]]:
    """(batch size, statements) for each size; none when batching is not mechanical here."""
    if facts is None or not facts.key or not facts.rows or not _batchable(node, facts.key):
        return []
    qualifier = node.relation.alias.aliasname if node.relation.alias else node.relation.relname
    key = RawStream()(ast.ColumnRef(fields=(ast.String(sval=qualifier), ast.String(sval=facts.key))))
    (raw,) = pglast.parse_sql(f"SELECT WHERE {key} >= _rehearse_from AND {key} < _rehearse_from + _rehearse_size")
    in_range = raw.stmt.whereClause
    where = node.whereClause
    node.whereClause = (
        ast.BoolExpr(boolop=BoolExprType.AND_EXPR, args=(where, in_range)) if where is not None else in_range
    )
    node.returningClause = None  # a procedure has nowhere to put returned rows
    relation = RawStream()(node.relation)
    create = BODY.format(procedure=PROCEDURE, key=key, relation=relation, update=RawStream()(node))
    drop = f"DROP PROCEDURE {PROCEDURE}(bigint)"
    return [(size, [create, f"CALL {PROCEDURE}({size})", drop]) for size in sizes(facts.rows)]


def _batchable(node: ast.UpdateStmt, key: str) -> bool:
    current_of = isinstance(node.whereClause, ast.CurrentOfExpr)
    sets_key = any(target.name == key for target in node.targetList or ())
    return not current_of and not sets_key
