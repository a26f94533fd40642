"""Which column each `$n` of a statement stands for, read from its parse tree (pglast): compared with
(`=`, `IN`, `<`/`>`, BETWEEN), inserted into, assigned to, fed through `unnest($n::t[]) AS i (col)`, or a
LIMIT. A parameter that none of these types is reported with the reason; the statement is then skipped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pglast import ast
from pglast.enums import A_Expr_Kind

COMPARE = {"=", "<>", "!=", "~~", "!~~", "~~*"}
RANGE = {"<", ">", "<=", ">="}


@dataclass(frozen=True)
class Slot:
    """What parameter $number takes: a value of table.column in `role` (eq, range, low, high, insert, key,
    assign, array), or a LIMIT/OFFSET (table None)."""

    number: int
    table: str | None
    column: str | None
    role: str


class Binder:
    """Types the parameters of statements against a schema {table: (columns, primary key column or None)}.
    Aliases of unnest columns resolved in one statement (i.qty → order_items.quantity) serve the others."""

    def __init__(self, schema: dict[str, tuple[set[str], str | None]]):
        self.schema = schema
        self.aliases: dict[str, tuple[str, str]] = {}  # unnest alias column → (table, column)

    def tables(self, stmt: ast.Node) -> set[str]:
        """The relations a statement names, CTE names left out."""
        ctes = {n.ctename for n in walk(stmt) if isinstance(n, ast.CommonTableExpr)}
        return {n.relname for n in walk(stmt) if isinstance(n, ast.RangeVar)} - ctes

    def bind(self, stmt: ast.Node) -> tuple[dict[int, Slot], dict[int, str]]:
        """(slots by parameter number, reasons for those that could not be typed)."""
        scope = _scope(stmt)
        found: dict[int, Slot] = {}
        unnest = _unnest_params(stmt)  # $n → alias column name
        for number, slot in self._slots(stmt, scope, unnest):
            found.setdefault(number, slot)
        for number, alias in unnest.items():
            target = self._column(alias, scope) or self.aliases.get(alias)
            if number not in found and target:
                found[number] = Slot(number, target[0], target[1], "array")
        wanted = {n.number for n in walk(stmt) if isinstance(n, ast.ParamRef)}
        reasons = {n: _reason(n, unnest) for n in sorted(wanted - set(found))}
        return found, reasons

    def _slots(self, stmt, scope, unnest) -> Iterator[tuple[int, Slot]]:
        for node in walk(stmt):
            if isinstance(node, ast.A_Expr):
                yield from self._compared(node, scope)
            elif isinstance(node, ast.InsertStmt):
                yield from self._inserted(node, unnest)
            elif isinstance(node, ast.UpdateStmt):
                table = node.relation.relname
                for target in node.targetList or ():
                    number = _param(target.val)
                    if number and target.name in self.schema.get(table, ((), None))[0]:
                        yield number, Slot(number, table, target.name, "assign")
            elif isinstance(node, ast.SelectStmt):
                for clause in (node.limitCount, node.limitOffset):
                    if _param(clause):
                        yield _param(clause), Slot(_param(clause), None, None, "limit")

    def _compared(self, node: ast.A_Expr, scope) -> Iterator[tuple[int, Slot]]:
        op = node.name[-1].sval if node.name else ""
        column = self._column(_colname(node.lexpr), scope, _qualifier(node.lexpr))
        if node.kind == A_Expr_Kind.AEXPR_BETWEEN and column:
            for number, role in zip((_param(x) for x in node.rexpr), ("low", "high")):
                if number:
                    yield number, Slot(number, *column, role)
            return
        if node.kind == A_Expr_Kind.AEXPR_IN and column:
            for number in (_param(x) for x in node.rexpr):
                if number:
                    yield number, Slot(number, *column, "eq")
            return
        role = "eq" if op in COMPARE else "range" if op in RANGE else None
        for side, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
            number = _param(side)
            col = self._column(_colname(other), scope, _qualifier(other))
            if role and number and col:
                yield number, Slot(number, *col, role)

    def _inserted(self, node: ast.InsertStmt, unnest) -> Iterator[tuple[int, Slot]]:
        table = node.relation.relname
        columns = [c.name for c in node.cols or ()]
        select = node.selectStmt
        rows = (select.valuesLists or ()) if select else ()
        if select and select.targetList:
            rows = (*rows, [t.val for t in select.targetList])
        key = self.schema.get(table, ((), None))[1]
        for row in rows:
            for column, value in zip(columns, row):
                number = _param(value)
                if number:
                    yield number, Slot(number, table, column, "key" if column == key else "insert")
                elif _colname(value) in unnest.values():  # SELECT i.qty … FROM unnest(…) AS i (…, qty)
                    self.aliases.setdefault(_colname(value), (table, column))

    def _column(self, name: str | None, scope: dict[str, str], qualifier: str | None = None):
        if name is None:
            return None
        tables = [scope[qualifier]] if qualifier in scope else list(dict.fromkeys(scope.values()))
        return next(((t, name) for t in tables if name in self.schema.get(t, ((), None))[0]), None)


def walk(node) -> Iterator[ast.Node]:
    """Every node under `node`, itself included, depth first."""
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from walk(getattr(node, name))


def _scope(stmt) -> dict[str, str]:
    """Names a column can be qualified with → table: aliases and the tables' own names."""
    scope = {}
    for node in walk(stmt):
        if isinstance(node, ast.RangeVar):
            scope[node.relname] = node.relname
            if node.alias:
                scope[node.alias.aliasname] = node.relname
    return scope


def _unnest_params(stmt) -> dict[int, str]:
    """$n passed to unnest(...) AS alias (c1, c2, …) → the alias column it becomes."""
    found = {}
    for node in walk(stmt):
        if isinstance(node, ast.RangeFunction) and node.alias and node.alias.colnames:
            names = [c.sval for c in node.alias.colnames]
            args = [a for f in node.functions for call in f[:1] if isinstance(call, ast.FuncCall) for a in call.args]
            for name, arg in zip(names, args):
                if _param(arg):
                    found[_param(arg)] = name
    return found


def _unwrap(node):
    """Through casts and unary minus: `$1::bigint`, `-$2` stand for the column they meet."""
    while True:
        if isinstance(node, ast.TypeCast):
            node = node.arg
        elif isinstance(node, ast.A_Expr) and node.lexpr is None and node.name and node.name[-1].sval == "-":
            node = node.rexpr
        else:
            return node


def _param(node) -> int | None:
    node = _unwrap(node)
    return node.number if isinstance(node, ast.ParamRef) else None


def _colname(node) -> str | None:
    node = _unwrap(node)
    if isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.String):
        return node.fields[-1].sval
    return None


def _qualifier(node) -> str | None:
    node = _unwrap(node)
    if isinstance(node, ast.ColumnRef) and len(node.fields) > 1:
        return node.fields[-2].sval
    return None


def _reason(number: int, unnest: dict[int, str]) -> str:
    if number in unnest:
        return f"${number} feeds unnest column {unnest[number]!r}, which no table column of the workload receives"
    return f"${number} is not compared with, inserted into or assigned to a column"
