"""`--stand-in-missing`: a schema made buildable without the extensions the server lacks, every change listed.

Works on the parsed schema before the generator sees it. Each missing extension's types become a stand-in of
the same width (extension_catalog); a column default, CHECK or generated expression that calls one of its
functions is removed from the table; an index that needs its operator class (or, for btree_gin/btree_gist,
its indexing of plain scalar columns), a function whose signature or body names it, any other statement that
calls it, and the statements that refer to what was dropped (a trigger on a dropped function, a comment
on a dropped index) are left out. A function body is matched by word, as it is a string to the parser.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import pglast
from pglast import ast
from pglast.enums import ConstrType, ObjectType
from pglast.stream import RawStream

from datagen.twin.extension_catalog import EXTENSIONS, SCALAR_TYPES, Extension

COLUMN_EXPRESSIONS = (ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_CHECK, ConstrType.CONSTR_GENERATED)


@dataclass(frozen=True)
class Substitution:
    """One change: which extension, what kind of object, its name, and what was done."""

    extension: str
    kind: str  # extension | type | default | check | generated | index | function | statement
    name: str
    done: str

    def to_dict(self) -> dict:
        return asdict(self)


def stand_in(schema_sql: str, missing: list[str]) -> tuple[str, list[Substitution]]:
    """The schema without the missing extensions, and every substitution made (in statement order)."""
    text = "\n".join(line for line in schema_sql.splitlines() if not line.startswith("\\"))
    raw, state = text.encode(), _State({e: EXTENSIONS.get(e, Extension()) for e in missing})
    kept = []
    for statement in pglast.parse_sql(text):
        original = raw[statement.stmt_location : statement.stmt_location + statement.stmt_len].decode().strip()
        result = state.statement(statement.stmt, original)
        if result is not None:
            kept.append(result)
    return ";\n\n".join(kept) + ";\n", state.done


class _State:
    """The missing extensions, the column types read so far, and the names already dropped."""

    def __init__(self, missing: dict[str, Extension]):
        self.missing, self.done = missing, []
        self.types = {t: (e, s) for e, x in missing.items() for t, s in x.types}
        self.functions = {f: e for e, x in missing.items() for f in x.functions}
        self.opclasses = {o: e for e, x in missing.items() for o in x.opclasses}
        self.scalar = {m: e for e, x in missing.items() for m in x.scalar_index_methods}
        self.columns: dict[tuple[str, str], str] = {}  # (table, column) -> type name
        self.dropped: set[str] = set()
        self.stood_in: dict[tuple[str, str], str] = {}  # (table, column) -> extension of its former type

    def statement(self, node, original: str) -> str | None:
        """The statement's text to keep (rewritten when changed), or None when it is left out."""
        if isinstance(node, ast.CreateExtensionStmt) and node.extname in self.missing:
            known = node.extname in EXTENSIONS
            self._add(
                node.extname, "extension", node.extname, "left out" if known else "left out (not in the catalogue)"
            )
            return None
        if isinstance(node, ast.CommentStmt) and node.objtype == ObjectType.OBJECT_EXTENSION:
            return None if node.object.sval in self.missing else original
        if _refers(node, self.dropped):
            return self._drop(node, "", "refers to an object left out")
        changed = self._types(node)
        if isinstance(node, ast.CreateStmt):
            self._remember(node)
            changed |= self._strip_columns(node)
        need = self._needs(node)
        if need:
            return self._drop(node, need[0], f"needs {need[1]}")
        return RawStream()(node) if changed else original

    def _types(self, node) -> bool:
        changed = False
        for parent, type_name in _type_names(node):
            name = type_name.names[-1].sval
            if name in self.types:
                extension, stand = self.types[name]
                type_name.names, type_name.typmods = (ast.String(sval=stand),), None
                where = _column_name(node, parent) or _object_name(node)
                if _column_name(node, parent):
                    self.stood_in[(_relation(node.relation), parent.colname)] = extension
                self._add(extension, "type", where, f"{name} → {stand}")
                changed = True
        return changed

    def _remember(self, node: ast.CreateStmt) -> None:
        table = _relation(node.relation)
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef) and element.typeName is not None:
                array = "[]" if element.typeName.arrayBounds else ""  # GIN indexes arrays by itself
                self.columns[(table, element.colname)] = element.typeName.names[-1].sval + array

    def _strip_columns(self, node: ast.CreateStmt) -> bool:
        changed = False
        for element in node.tableElts or ():
            if not isinstance(element, ast.ColumnDef) or not element.constraints:
                continue
            keep = []
            for constraint in element.constraints:
                need = self._needs(constraint) if constraint.contype in COLUMN_EXPRESSIONS else None
                if need:
                    kind = constraint.contype.name.removeprefix("CONSTR_").lower()
                    self._add(
                        need[0], kind, f"{_relation(node.relation)}.{element.colname}", f"removed: calls {need[1]}"
                    )
                else:
                    keep.append(constraint)
            changed |= len(keep) != len(element.constraints)
            element.constraints = tuple(keep) or None
        return changed

    def _needs(self, node) -> tuple[str, str] | None:
        """(extension, what) for the first function, operator class or scalar GIN/GiST column it needs."""
        for found in _walk(node):
            if isinstance(found, ast.FuncCall) and found.funcname[-1].sval in self.functions:
                return self.functions[found.funcname[-1].sval], f"{found.funcname[-1].sval}()"
            if isinstance(found, ast.IndexElem) and found.opclass and found.opclass[-1].sval in self.opclasses:
                return self.opclasses[found.opclass[-1].sval], found.opclass[-1].sval
        if isinstance(node, ast.IndexStmt):
            return self._index(node)
        if isinstance(node, ast.CreateFunctionStmt):
            return self._function_body(node)
        return None

    def _index(self, node: ast.IndexStmt) -> tuple[str, str] | None:
        """A GiST/GIN/… index over a stood-in column (bytea and text have no such default operator class),
        or a GIN/GiST index over a plain scalar column when btree_gin/btree_gist is missing."""
        table = _relation(node.relation)
        for param in node.indexParams:
            extension = self.stood_in.get((table, param.name))
            if extension and node.accessMethod not in ("btree", "hash"):
                return extension, f"{node.accessMethod} over stood-in column {param.name}"
        if node.accessMethod not in self.scalar:
            return None
        for param in node.indexParams:
            kind = self.columns.get((table, param.name)) if param.name else None
            if kind in SCALAR_TYPES and not param.opclass:
                return self.scalar[node.accessMethod], f"{node.accessMethod} over {kind} column {param.name}"
        return None

    def _function_body(self, node: ast.CreateFunctionStmt) -> tuple[str, str] | None:
        body = " ".join(str(o.arg) for o in node.options or () if o.defname == "as")
        for name in re.findall(r"\w+", body.lower()):
            if name in self.functions:
                return self.functions[name], f"{name}() in its body"
            if name in self.dropped:
                return _extension_of(self.done, name), f"{name}() in its body, which was left out"
        return None

    def _drop(self, node, extension: str, why: str) -> None:  # always None: the statement is left out
        kind, name = _kind(node), _object_name(node)
        self.dropped.add(name.rsplit(".", 1)[-1])
        self._add(extension or _extension_of(self.done, name), kind, name, f"left out: {why}")
        return None

    def _add(self, extension: str, kind: str, name: str, done: str) -> None:
        self.done.append(Substitution(extension, kind, name, done))


def _walk(node):
    """Every AST node under node, node included."""
    if isinstance(node, ast.Node):
        yield node
        for slot in node.__slots__:
            yield from _walk(getattr(node, slot, None))
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _walk(item)


def _type_names(node):
    """(the node holding it, TypeName) pairs, so a column's type can be named by table and column."""
    for found in _walk(node):
        for slot in ("typeName", "argType", "returnType"):
            value = getattr(found, slot, None) if slot in getattr(found, "__slots__", ()) else None
            if isinstance(value, ast.TypeName):
                yield found, value


def _refers(node, dropped: set[str]) -> bool:
    if not dropped:
        return False
    for found in _walk(node):
        if isinstance(found, ast.RangeVar) and found.relname in dropped:
            return True
        if isinstance(found, (ast.FuncCall, ast.CreateTrigStmt)) and found.funcname[-1].sval in dropped:
            return True
    if isinstance(node, ast.CommentStmt) and isinstance(node.object, tuple):
        return node.object[-1].sval in dropped if isinstance(node.object[-1], ast.String) else False
    return False


def _kind(node) -> str:
    kinds = {ast.IndexStmt: "index", ast.CreateFunctionStmt: "function", ast.ViewStmt: "view"}
    return kinds.get(type(node), "statement")


def _object_name(node) -> str:
    if isinstance(node, ast.IndexStmt):
        return f"{node.relation.schemaname or 'public'}.{node.idxname}"
    if isinstance(node, ast.CreateFunctionStmt):
        return ".".join(s.sval for s in node.funcname)
    for slot in ("relation", "view"):
        if isinstance(getattr(node, slot, None), ast.RangeVar):
            return _relation(getattr(node, slot))
    return type(node).__name__


def _column_name(node, parent) -> str | None:
    if isinstance(node, ast.CreateStmt) and isinstance(parent, ast.ColumnDef):
        return f"{_relation(node.relation)}.{parent.colname}"
    return None


def _relation(rel: ast.RangeVar) -> str:
    return f"{rel.schemaname or 'public'}.{rel.relname}"


def _extension_of(done: list[Substitution], name: str) -> str:
    """A statement left out because it refers to something dropped: blame that thing's extension."""
    return next((s.extension for s in reversed(done) if s.extension), "")
