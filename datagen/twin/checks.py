"""CHECK constraints the generator satisfies by construction: ranges and IN-lists on one column."""

from __future__ import annotations

from dataclasses import dataclass, field

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

OPS = {">": "lo_open", ">=": "lo", "<": "hi_open", "<=": "hi", "=": "eq"}
FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}


@dataclass
class Bounds:
    """What CHECKs allow of one column: a closed range and/or a list of values (as text)."""

    lo: float | None = None
    hi: float | None = None
    values: list[str] | None = None
    open_lo: bool = False
    open_hi: bool = False
    texts: dict[str, str] = field(default_factory=dict)  # "lo"/"hi" given as text (times), read by type later


@dataclass
class Checks:
    columns: dict[str, Bounds] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)  # expressions not understood: left to the server


def read(expressions: list[str]) -> Checks:
    result = Checks()
    for text in expressions:
        node = pglast.parse_sql(f"SELECT 1 WHERE {text}")[0].stmt.whereClause
        if not _add(node, result.columns):
            result.other.append(text)
    return result


def _add(node, found: dict[str, Bounds]) -> bool:
    """True when the whole expression was turned into bounds (an AND of understood terms)."""
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return all([_add(arg, found) for arg in node.args])
    if isinstance(node, ast.NullTest):
        return True  # IS NOT NULL: the generator's NOT NULL handling covers it
    if not isinstance(node, ast.A_Expr):
        return False
    column, other = _column(node.lexpr), node.rexpr
    if node.kind == A_Expr_Kind.AEXPR_IN and column:
        return _set_values(found, column, [_const(v) for v in other])
    if node.kind == A_Expr_Kind.AEXPR_OP_ANY and column and node.name[0].sval == "=":
        items = _unwrap(other)
        return isinstance(items, ast.A_ArrayExpr) and _set_values(found, column, [_const(v) for v in items.elements])
    if node.kind == A_Expr_Kind.AEXPR_BETWEEN and column:
        low, high = (_const(v) for v in other)
        return _set_range(found, column, ">=", low) and _set_range(found, column, "<=", high)
    if node.kind == A_Expr_Kind.AEXPR_OP:
        op = node.name[0].sval
        if column and op in OPS:
            return _set_range(found, column, op, _const(other))
        column = _column(other)
        if column and op in OPS:
            return _set_range(found, column, FLIP[op], _const(node.lexpr))
    return False


def _set_values(found: dict[str, Bounds], column: str, values: list) -> bool:
    if any(v is None for v in values):
        return False
    found.setdefault(column, Bounds()).values = [str(v) for v in values]
    return True


def _set_range(found: dict[str, Bounds], column: str, op: str, value) -> bool:
    if isinstance(value, str) and op != "=":  # a time bound ('2024-01-01'::date): values reads it by type
        bounds = found.setdefault(column, Bounds())
        side = "lo" if op in (">", ">=") else "hi"
        bounds.texts[side] = value
        setattr(bounds, f"open_{side}", op in (">", "<"))
        return True
    if not isinstance(value, int | float):
        return op == "=" and _set_values(found, column, [value]) if value is not None else False
    bounds = found.setdefault(column, Bounds())
    if op in (">", ">="):
        bounds.lo, bounds.open_lo = value, op == ">"
    elif op in ("<", "<="):
        bounds.hi, bounds.open_hi = value, op == "<"
    else:
        bounds.values = [str(value)]
    return True


def _unwrap(node):
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _column(node) -> str | None:
    node = _unwrap(node)
    if isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.String):
        return node.fields[-1].sval
    return None


def _const(node):
    node = _unwrap(node)
    if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and node.lexpr is None:
        value = _const(node.rexpr)  # unary minus
        return -value if isinstance(value, int | float) and node.name[0].sval == "-" else None
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.Integer):
        return value.ival
    if isinstance(value, ast.Float):
        return float(value.fval)
    if isinstance(value, ast.String):
        return value.sval
    return None
