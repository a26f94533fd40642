"""`--workload tables`: a generic application built from a profile's pg_stat_user_tables rates, for when
production has no pg_stat_statements.

Per table of the profile, on the rehearsal database's own catalogue (the twin has production's schema):

* point reads by primary key and `=` lookups on the first column of every other B-tree or hash index share
  the table's `idx_scan` rate evenly (the profile has no per-index counters; GIN and GiST indexes answer
  containment and search operators, which a generic application cannot make up);
* inserts at `n_tup_ins` rows/s, of every column that has no default the server must fill (identity,
  serial, generated), nullable columns of a unique index left out (NULLs never collide; a NOT NULL unique
  column other than the key takes sampled values, and can collide); a table whose key the server does not
  fill and is not an integer gets no inserts (new keys are counted up from the maximum);
* HOT updates at `n_tup_hot_upd` (a column no index covers, so PostgreSQL can update in place) and the
  other updates at `n_tup_upd − n_tup_hot_upd` (an indexed column), both by primary key;
* deletes at `n_tup_del`, by primary key.

Reads name the columns the table has when the rehearsal starts, as an application built against that
schema does: with `SELECT *`, a prepared statement fails after `ADD COLUMN` (0A000, "cached plan must not
change result type"), which is the application's style, not the migration's risk.
Sequential scans (`seq_scan`) are not replayed: a generic application cannot know what they looked for.
Each statement is one row per call, so its share of the traffic is production's row rate; `--rate` scales
the total. The statements are ordinary replay statements: their `$n` are typed and drawn as any others.
"""

from __future__ import annotations

from typing import NamedTuple

import psycopg

from common.errors import BadInput
from rehearse.measure.replay import sources
from rehearse.measure.replay.app import ReplayApp, _statement

WORKLOAD = "tables"
COLUMNS = """
SELECT a.attname,
       a.attgenerated <> '' OR a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%', false),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND a.attnum = ANY(i.indkey)),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey)),
       EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
               WHERE i.indrelid = a.attrelid AND NOT i.indisprimary AND i.indkey[0] = a.attnum
                 AND am.amname IN ('btree', 'hash'))
         AND (SELECT t.typcategory FROM pg_type t WHERE t.oid = a.atttypid) <> 'A',
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND NOT i.indisprimary
               AND a.attnum = ANY(i.indkey)) AND NOT a.attnotnull,
       a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""


class Col(NamedTuple):
    name: str
    filled: bool  # the server fills it: identity, serial, generated
    indexed: bool
    key: bool  # in the primary key
    leads: bool  # first column, not an array, of a B-tree or hash index other than the primary key (`=` lookup)
    optional_unique: bool  # in a unique index and nullable: left out of inserts (NULLs never collide)
    integer: bool  # new keys can be counted up from the maximum


class TablesApp(ReplayApp):
    """The generic application of a profile; its statements are made in `prepare`, from the catalogue."""

    def __init__(self, profile, read_only: bool = False):
        self.path, self.profile, self.read_only = WORKLOAD, profile, read_only
        self.statements, self.skipped, self.dropped = {}, [], []

    def prepare(self, conn: psycopg.Connection) -> None:
        entries = [e for table in self.profile.tables for e in table_entries(conn, table)]
        if not entries:
            raise BadInput(
                "--workload tables: the profile's tables have no pg_stat_user_tables rates (no scans, inserts, "
                "updates or deletes); profile a server whose statistics were not just reset, or give --workload FILE"
            )
        statements = []
        for entry, label in entries:
            statement = _statement(entry)
            statement.kind = label
            statements.append(statement)
        self._take(statements, self.read_only)
        super().prepare(conn)


def table_entries(conn: psycopg.Connection, table) -> list[tuple[sources.Entry, str]]:
    """(statement, readable kind) pairs of one table, each weighted by production's rows per second."""
    name = table.name if table.schema == "public" else table.qualified
    found = conn.execute("SELECT to_regclass(%s)", (table.qualified,)).fetchone()[0]
    if found is None:
        return []
    columns = [Col(*row) for row in conn.execute(COLUMNS, (table.qualified,)).fetchall()]
    key = [c.name for c in columns if c.key]
    if not key:
        return []  # no primary key: nothing to address single rows by
    rates = table.rates
    lookups = [c.name for c in columns if c.leads and not c.key]
    per_index = (rates.idx_scan or 0) / (1 + len(lookups))
    where = " AND ".join(f"{_quoted(k)} = ${i}" for i, k in enumerate(key, 1))
    shown = ", ".join(_quoted(c.name) for c in columns)  # named, not *: an added column changes no result type
    made = [(f"SELECT {shown} FROM {name} WHERE {where}", per_index, f"point read {name}")]
    made += [
        (f"SELECT {shown} FROM {name} WHERE {_quoted(c)} = $1 LIMIT 20", per_index, f"lookup {name}.{c}")
        for c in lookups
    ]
    made += _writes(name, columns, key, rates)
    return [(sources.Entry(sql, calls, 1.0, f"tables: {name}"), label) for sql, calls, label in made if calls > 0]


def _writes(name: str, columns: list[Col], key: list[str], rates) -> list[tuple[str, float, str]]:
    insertable = [c.name for c in columns if not c.filled and not c.optional_unique]
    hot = next((c.name for c in columns if not c.filled and not c.indexed), None)
    cold = next((c.name for c in columns if not c.filled and c.indexed and not c.key and not c.optional_unique), None)
    by_key = " AND ".join(f"{_quoted(k)} = ${i}" for i, k in enumerate(key, 2))
    hot_rate = rates.n_tup_hot_upd or 0
    made = []
    if insertable and all(c.integer for c in columns if c.key and c.name in insertable):
        values = ", ".join(f"${i}" for i in range(1, len(insertable) + 1))
        made.append(
            (
                f"INSERT INTO {name} ({', '.join(map(_quoted, insertable))}) VALUES ({values})",
                rates.n_tup_ins or 0,
                f"insert {name}",
            )
        )
    if hot:
        made.append((f"UPDATE {name} SET {_quoted(hot)} = $1 WHERE {by_key}", hot_rate, f"update {name} (hot)"))
    if cold:
        made.append(
            (
                f"UPDATE {name} SET {_quoted(cold)} = $1 WHERE {by_key}",
                (rates.n_tup_upd or 0) - hot_rate,
                f"update {name}",
            )
        )
    where = " AND ".join(f"{_quoted(k)} = ${i}" for i, k in enumerate(key, 1))
    made.append((f"DELETE FROM {name} WHERE {where}", rates.n_tup_del or 0, f"delete {name}"))
    return made


def _quoted(name: str) -> str:
    return name if name.isidentifier() and name == name.lower() else '"' + name.replace('"', '""') + '"'
