"""A `pg_dump --schema-only` file read with PostgreSQL's own parser (pglast): its tables and their columns'
types, its domains, and the names of the other relations statistics may be about (indexes, views).

The file must be pg_dump output (its header, or the `search_path` line pg_dump always writes: Rails'
structure.sql keeps only the latter) and must hold no rows (`COPY … FROM stdin`, `INSERT`): a profile
carries the schema, never the data; Rails' migration versions are the one exception, left out of the
profile's schema. psql meta-commands (`\\restrict`, `\\connect`) are dropped first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.parser import ParseError

from common.errors import BadInput
from datagen.profile.model import Column
from datagen.profile.session import strip_meta_commands

PG_DUMP_MARKS = ("-- PostgreSQL database dump", "SELECT pg_catalog.set_config('search_path', '', false);")
FIX = "make it with pg_dump --schema-only"
_COPY_DATA = re.compile(r"^COPY .* FROM stdin;$", re.MULTILINE)
RAILS_TABLES = ("schema_migrations", "ar_internal_metadata")
# format_type() spells pg_catalog's types this way; the parser gives their internal names.
TYPE_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "character varying",
    "bpchar": "character",
    "varbit": "bit varying",
}
TIME_TYPES = {"timestamptz": ("timestamp", " with time zone"), "timestamp": ("timestamp", " without time zone")}
TIME_TYPES |= {"timetz": ("time", " with time zone"), "time": ("time", " without time zone")}


@dataclass
class Schema:
    """What the profile needs from the schema file."""

    sql: str
    server_version: str | None = None
    tables: dict[str, tuple[str, list[Column]]] = field(default_factory=dict)  # qualified → (kind, columns)
    domains: dict[str, str] = field(default_factory=dict)  # domain type text → base type text
    other_relations: set[str] = field(default_factory=set)  # indexes, views, materialized views


def read_schema(path: str, text: str) -> Schema:
    """Parse `text` (the contents of `path`); BadInput in one line when it is not a usable schema dump."""
    if not any(mark in text for mark in PG_DUMP_MARKS):
        raise BadInput(f"--schema {path} is not pg_dump output (no pg_dump header or search_path line); {FIX}")
    if _COPY_DATA.search(text):  # a data section does not even parse as SQL: say what it is first
        raise BadInput(f"--schema {path} holds table rows (COPY … FROM stdin); {FIX}: a profile never carries rows")
    sql = strip_meta_commands(text)
    schema = Schema(sql, _dumped_from(text))
    bookkeeping = []
    for raw in parse("--schema", path, sql):
        if _is_rails_bookkeeping(raw.stmt):
            bookkeeping.append((raw.stmt_location, raw.stmt_location + raw.stmt_len))
        else:
            _collect(schema, raw.stmt, path)
    for start, end in reversed(bookkeeping):  # the generator starts from an empty migration history
        schema.sql = schema.sql[:start] + schema.sql[end:].removeprefix(";")
    if not schema.tables:
        raise BadInput(f"--schema {path} creates no table; {FIX} of the database to profile")
    return schema


def _is_rails_bookkeeping(stmt) -> bool:
    """Rails appends `INSERT INTO "schema_migrations" (version) VALUES …` to its pg_dump: the versions of
    its migrations, not rows of the application, so it is left out rather than refused."""
    return isinstance(stmt, ast.InsertStmt) and stmt.relation.relname in RAILS_TABLES


def _dumped_from(text: str) -> str | None:
    for line in text.splitlines()[:20]:
        if line.startswith("-- Dumped from database version "):
            return line.rsplit(" ", 1)[1]
    return None


def parse(flag: str, path: str, sql: str):
    """pglast's statements of `sql`; BadInput naming the file and line where it does not parse."""
    try:
        return parse_sql(sql)
    except ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        line = sql.count("\n", 0, offset) + 1
        raise BadInput(f"{flag} {path} does not parse at line {line}: {exc.args[0]}; make it with pg_dump") from None


def _collect(schema: Schema, stmt, path: str) -> None:
    if isinstance(stmt, ast.CreateStmt):
        _table(schema, stmt)
    elif isinstance(stmt, ast.CreateDomainStmt):
        schema.domains[_dotted(stmt.domainname)] = type_text(stmt.typeName)
    elif isinstance(stmt, ast.IndexStmt):
        schema.other_relations.add(f"{stmt.relation.schemaname or 'public'}.{stmt.idxname}")
    elif isinstance(stmt, ast.ViewStmt):
        schema.other_relations.add(_relation(stmt.view))
    elif isinstance(stmt, ast.CreateTableAsStmt):
        schema.other_relations.add(_relation(stmt.into.rel))
    elif isinstance(stmt, ast.AlterTableStmt):
        _constraint_indexes(schema, stmt)
    elif isinstance(stmt, ast.InsertStmt) or (isinstance(stmt, ast.CopyStmt) and stmt.is_from):
        raise BadInput(f"--schema {path} holds table rows (COPY or INSERT); {FIX}: a profile never carries rows")


def _table(schema: Schema, stmt: ast.CreateStmt) -> None:
    name = _relation(stmt.relation)
    kind = "p" if stmt.partspec is not None else "r"
    columns = [Column(e.colname, type_text(e.typeName)) for e in stmt.tableElts or () if isinstance(e, ast.ColumnDef)]
    if not columns and stmt.inhRelations:  # CREATE TABLE … PARTITION OF parent: the parent's columns
        parent = schema.tables.get(_relation(stmt.inhRelations[0]))
        columns = list(parent[1]) if parent else []
    schema.tables[name] = (kind, columns)


def _constraint_indexes(schema: Schema, stmt: ast.AlterTableStmt) -> None:
    """ADD CONSTRAINT … PRIMARY KEY / UNIQUE / EXCLUDE makes an index of the constraint's name."""
    for cmd in stmt.cmds or ():
        constraint = getattr(cmd, "def_", None)
        if isinstance(constraint, ast.Constraint) and constraint.conname:
            schema.other_relations.add(f"{stmt.relation.schemaname or 'public'}.{constraint.conname}")


def _relation(rel: ast.RangeVar) -> str:
    return f"{rel.schemaname or 'public'}.{rel.relname}"


def _dotted(names) -> str:
    return ".".join(n.sval for n in names)


def type_text(type_name: ast.TypeName) -> str:
    """A column's type as format_type() writes it with search_path '' ('character varying(80)',
    'public.mood', 'numeric(12,2)[]', 'timestamp(3) with time zone')."""
    names = [n.sval for n in type_name.names]
    mods = [str(m.val.ival) for m in type_name.typmods or () if isinstance(m, ast.A_Const) and hasattr(m.val, "ival")]
    typmod = f"({','.join(mods)})" if mods else ""
    if len(names) == 2 and names[0] == "pg_catalog":
        base, suffix = TIME_TYPES.get(names[1], (TYPE_NAMES.get(names[1], names[1]), ""))
        if names[1] == "interval":
            typmod = ""  # interval's typmod encodes field restrictions, not digits; kept only in schema_sql
        text = f"{base}{typmod}{suffix}"
    else:
        text = '"char"' if names == ["char"] else ".".join(names) + typmod
    return text + "[]" * len(type_name.arrayBounds or ())
