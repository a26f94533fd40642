"""Parameter values drawn from the rehearsal database: each column sampled once at start (TABLESAMPLE),
so ids exist and values follow the column's distribution; new keys for INSERTs count up from the max.

Recency: pg_stat_statements does not say which rows were hot, but an application mostly looks at what was
just written (the order just placed, its items). So an `=` on an integer column that leads a B-tree index
(a key, a foreign key) takes half its values from the column's newest RECENT values, skewed to the very
newest, and half from the sample, as the built-in application picks its order ids."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
import psycopg
from psycopg import sql
from psycopg.types.json import Json, Jsonb

from rehearse.measure.replay.binding import Slot

SAMPLE = 2000  # values kept per column
RECENT = 3000  # the newest values of an indexed integer column, for the recency half of its `=` draws
SKEW = 1000.0  # mean rank (0 = newest) of a recency draw: exponential, as the built-in app's order ids
TEXT_TYPES = {"text", "character varying", "character", "name", "citext"}
JSON_TYPES = {"json": Json, "jsonb": Jsonb}


class Untyped(str):
    """A string sent without a type (PostgreSQL infers it), for columns that are not text: enums, json, …"""


def schema(conn: psycopg.Connection) -> dict[str, tuple[set[str], str | None]]:
    """{table: (columns, single-column primary key or None)} of the visible ordinary and partitioned tables."""
    rows = conn.execute(
        """SELECT c.relname, a.attname,
                  (SELECT k.conkey = ARRAY[a.attnum] FROM pg_constraint k
                    WHERE k.conrelid = c.oid AND k.contype = 'p')
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)"""
    ).fetchall()
    found: dict[str, tuple[set[str], str | None]] = {}
    for table, column, is_key in rows:
        columns, key = found.get(table, (set(), None))
        columns.add(column)
        found[table] = (columns, column if is_key else key)
    return found


class Values:
    """Samples of the columns the slots name, and the draws the workload's parameters take from them."""

    def __init__(self, conn: psycopg.Connection, slots: Iterable[Slot]):
        needed = {(s.table, s.column, s.role == "key") for s in slots if s.table}
        self.samples: dict[tuple[str, str], list] = {}
        self.keys: dict[tuple[str, str], itertools.count] = {}
        for table, column, is_key in sorted(needed):
            if is_key:
                self.keys[(table, column)] = itertools.count(_max(conn, table, column) + 1_000_000)
            else:
                self.samples[(table, column)] = _sample(conn, table, column)
        equal = {(s.table, s.column) for s in slots if s.table and s.role == "eq"}
        self.recent = {pair: _recent(conn, *pair) for pair in sorted(equal) if _indexed_integer(conn, *pair)}

    def empty(self, slot: Slot) -> bool:
        return slot.table is not None and slot.role != "key" and not self.samples[(slot.table, slot.column)]

    def draw(self, slots: list[Slot], rng: np.random.Generator, rows_per_call: float | None) -> dict:
        """One call's parameters {'p<n>': value}; a BETWEEN gets low ≤ high, unnest arrays one length."""
        length = int(rng.integers(1, 5))
        params = {}
        for slot in slots:
            params[f"p{slot.number}"] = self._one(slot, rng, length, rows_per_call)
        for low, high in _pairs(slots):
            a, b = params[f"p{low}"], params[f"p{high}"]
            if a is not None and b is not None and b < a:
                params[f"p{low}"], params[f"p{high}"] = b, a
        return params

    def _one(self, slot: Slot, rng, length: int, rows_per_call: float | None):
        if slot.role == "limit":  # the export's rows per call, as production asked for them
            return max(1, round(rows_per_call or 10))
        if slot.role == "key":
            return next(self.keys[(slot.table, slot.column)])
        sample = self.samples[(slot.table, slot.column)]
        recent = self.recent.get((slot.table, slot.column)) if slot.role == "eq" else None
        if recent and rng.random() < 0.5:
            return recent[min(int(rng.exponential(SKEW)), len(recent) - 1)]
        if slot.role == "array":
            return [sample[i] for i in rng.integers(0, len(sample), length)]
        return sample[int(rng.integers(0, len(sample)))]


def _pairs(slots: list[Slot]) -> list[tuple[int, int]]:
    lows = [s for s in slots if s.role == "low"]
    highs = [s for s in slots if s.role == "high"]
    return [(lo.number, hi.number) for lo, hi in zip(lows, highs)]


def _max(conn: psycopg.Connection, table: str, column: str) -> int:
    query = sql.SQL("SELECT coalesce(max({}), 0) FROM {}").format(sql.Identifier(column), sql.Identifier(table))
    return int(conn.execute(query).fetchone()[0])


def _indexed_integer(conn: psycopg.Connection, table: str, column: str) -> bool:
    """An integer column that leads a B-tree index: its newest values are one index scan away."""
    return bool(
        conn.execute(
            """SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                                JOIN pg_am am ON am.oid = ic.relam
                               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                              WHERE i.indrelid = to_regclass(%s) AND a.attname = %s AND am.amname = 'btree'
                                AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype))""",
            [table, column],
        ).fetchone()[0]
    )


def _recent(conn: psycopg.Connection, table: str, column: str) -> list:
    """The column's RECENT largest values, newest first (the index read backwards; a foreign key repeats)."""
    query = sql.SQL("SELECT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c} DESC LIMIT {n}").format(
        c=sql.Identifier(column), t=sql.Identifier(table), n=sql.Literal(RECENT)
    )
    return [v for (v,) in conn.execute(query).fetchall()]


def _sample(conn: psycopg.Connection, table: str, column: str) -> list:
    """Up to SAMPLE non-null values: a Bernoulli sample sized from reltuples, all rows of a small table."""
    estimate = conn.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table]).fetchone()
    percent = min(100.0, 100.0 * 3 * SAMPLE / max(float(estimate[0]) if estimate else 0.0, 1.0))
    rows = conn.execute(_sample_query(table, column, percent)).fetchall()
    if len(rows) < 10 and percent < 100:  # reltuples stale or the sample unlucky: take them all
        rows = conn.execute(_sample_query(table, column, 100.0)).fetchall()
    kind = conn.execute(
        "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s",
        [table, column],
    ).fetchone()[0]
    return [_sendable(v, kind) for (v,) in rows]


def _sendable(value, kind: str):
    """A sampled value as it can be sent back: json as json (psycopg read it into dicts and lists), a string
    of a type that is not text untyped (the server infers enums, intervals, … from the column)."""
    if kind in JSON_TYPES:
        return JSON_TYPES[kind](value)
    return Untyped(value) if isinstance(value, str) and kind not in TEXT_TYPES else value


def _sample_query(table: str, column: str, percent: float) -> sql.Composed:
    return sql.SQL("SELECT {c} FROM {t} TABLESAMPLE BERNOULLI ({p}) WHERE {c} IS NOT NULL LIMIT {n}").format(
        c=sql.Identifier(column), t=sql.Identifier(table), p=sql.Literal(percent), n=sql.Literal(SAMPLE)
    )
