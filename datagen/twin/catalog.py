"""What the generator needs from the catalogue once the pre-data schema exists: columns, types, checks."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

COLUMNS = """
WITH cols AS (
  SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS shown,
         a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,
         a.attgenerated, a.attidentity,
         CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END AS base,
         CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped)
SELECT c.attname, c.shown, c.attnotnull, c.attgenerated <> '', c.attidentity <> '', c.typmod,
       b.typname, b.typtype, e.typname, e.typtype,
       (SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum
        WHERE enumtypid = coalesce(e.oid, b.oid)), e.oid
FROM cols c JOIN pg_type b ON b.oid = c.base
LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
ORDER BY c.attnum
"""
CHECKS = "SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c'"
# A domain's CHECKs, on the column: VALUE becomes the column's name (a domain over a domain included).
DOMAIN_CHECKS = r"""
SELECT regexp_replace(pg_get_expr(con.conbin, 0), '\mVALUE\M', quote_ident(a.attname), 'g')
FROM pg_attribute a JOIN pg_constraint con ON con.contypid IN (
  WITH RECURSIVE d(oid) AS (SELECT a.atttypid UNION SELECT t.typbasetype FROM pg_type t JOIN d ON t.oid = d.oid
                            WHERE t.typtype = 'd')
  SELECT oid FROM d)
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped AND con.contype = 'c'
"""
PARTITION = "SELECT pg_get_partition_constraintdef(c), pg_partition_root(c)::regclass::text FROM CAST(%s AS regclass) c"
RELATION = "SELECT relkind, relispartition FROM pg_class WHERE oid = to_regclass(%s)"


@dataclass(frozen=True)
class TypeInfo:
    """One column as the server sees it: its base type (domains resolved), element type, enum labels."""

    name: str
    shown: str
    not_null: bool
    generated: bool
    identity: bool
    typmod: int
    base: str  # pg_type.typname of the base type, e.g. int8, varchar, _int4 for int[]
    typtype: str  # e = enum
    element: str | None  # for arrays: the element's typname
    labels: tuple[str, ...] | None  # enum labels, of the column or of its elements
    element_oid: int | None = None  # for arrays: the element type's OID (binary COPY names it)

    @property
    def length(self) -> int | None:
        """varchar(n)/char(n): n."""
        return self.typmod - 4 if self.base in ("varchar", "bpchar") and self.typmod > 4 else None

    @property
    def numeric_scale(self) -> tuple[int, int] | None:
        """numeric(p,s): (p, s)."""
        if self.base != "numeric" or self.typmod < 4:
            return None
        return (self.typmod - 4) >> 16, (self.typmod - 4) & 0xFFFF


def columns(conn: psycopg.Connection, table: str) -> list[TypeInfo]:
    rows = conn.execute(COLUMNS, (table,)).fetchall()
    return [
        TypeInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], tuple(r[10]) if r[10] else None, r[11])
        for r in rows
    ]


def checks(conn: psycopg.Connection, table: str) -> list[str]:
    """The table's CHECK expressions and its columns' domain CHECKs, as expressions over its columns."""
    found = conn.execute(CHECKS, (table,)).fetchall() + conn.execute(DOMAIN_CHECKS, (table,)).fetchall()
    return [r[0] for r in found]


def partition(conn: psycopg.Connection, table: str) -> tuple[str | None, str]:
    """A leaf partition's constraint (its bounds and its ancestors', as an expression) and its root table,
    schema-qualified."""
    bound, root = conn.execute(PARTITION, (table,)).fetchone()
    return bound, root if "." in root else f"public.{root}"


def relation(conn: psycopg.Connection, table: str) -> tuple[str, bool] | None:
    """(relkind, is a partition) of a table the schema created, None when it is not there."""
    row = conn.execute(RELATION, (table,)).fetchone()
    return (row[0], row[1]) if row else None
