"""After the load: keys and indexes (schema_constraints.sql), sequences, statistics, foreign keys, dirt."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import psycopg
from psycopg import sql

from datagen.dirt import MEASURES

HERE = Path(__file__).resolve().parent
_TABLE = re.compile(r"^(?:ALTER TABLE\s+(\w+)|CREATE (?:UNIQUE )?INDEX \w+\s+ON\s+(\w+))", re.I)
_FK = re.compile(r"^ALTER TABLE\s+(\w+)\s+ADD CONSTRAINT\s+(\w+)\s+FOREIGN KEY\s*\((\w+)\)", re.I)
_INDEX = re.compile(r"INDEX \w+\s+ON\s+(\w+)\s*\((\w+)", re.I)


@lru_cache(maxsize=1)
def statements(path: Path = HERE / "schema_constraints.sql") -> tuple[str, ...]:
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
    return tuple(" ".join(s.split()) for s in text.split(";") if s.strip())


def table_of(statement: str) -> str:
    match = _TABLE.match(statement)
    if not match:
        raise ValueError(f"cannot tell the table of: {statement}")
    return match.group(1) or match.group(2)


def keys_and_indexes(table: str) -> list[str]:
    """The table's primary key and indexes: built by the process that loaded it, right after the load."""
    return [s for s in statements() if table_of(s) == table and not _FK.match(s)]


def index_table(conn: psycopg.Connection, table: str, id_column: str) -> None:
    for statement in keys_and_indexes(table):
        conn.execute(statement)
    # The load gave explicit ids: move the identity sequence past them, or the app's inserts collide.
    conn.execute(
        sql.SQL("SELECT setval(pg_get_serial_sequence({t}, {c}), max({ci})) FROM {ti}").format(
            t=sql.Literal(table), c=sql.Literal(id_column), ci=sql.Identifier(id_column), ti=sql.Identifier(table)
        )
    )
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))


def foreign_keys_and_dirt(connect, workers: int = 2) -> tuple[dict[str, int], dict[str, float]]:
    """Add every foreign key NOT VALID (instant), then validate them and count the dirt on `workers`
    connections at once; returns the dirt counts and the seconds of each job. VALIDATE takes only SHARE
    UPDATE EXCLUSIVE on its table and ROW SHARE on the referenced one, so validations of keys that share
    a table run together (a plain ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on both: they would queue)."""
    fks = [(m.group(1), m.group(2), m.group(3), s) for s in statements() if (m := _FK.match(s))]
    with connect() as conn:
        for *_, statement in fks:
            conn.execute(statement + " NOT VALID")
    # Longest first, so the connections finish together: the orphan count joins the two largest tables.
    jobs = {f"count {kind}": [query] for kind, query in MEASURES.items()}
    jobs.update({f"validate {c}": _validation(t, c, col) for t, c, col, _ in fks})
    with ThreadPoolExecutor(workers) as pool:
        done = dict(zip(jobs, pool.map(lambda queries: _timed(connect, queries), jobs.values())))
    return ({kind: done[f"count {kind}"][0] for kind in MEASURES}, {job: seconds for job, (_, seconds) in done.items()})


def _validation(table: str, constraint: str, column: str) -> list[str]:
    """The check is one anti-join; when an index leads with the key column, a merge join over two
    index-only scans (the load left every page all-visible) beats the hash join the planner prefers."""
    validate = f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}"
    return ["SET enable_hashjoin = off", validate] if (table, column) in leading_columns() else [validate]


@lru_cache(maxsize=1)
def leading_columns() -> frozenset[tuple[str, str]]:
    return frozenset((m.group(1), m.group(2)) for s in statements() if (m := _INDEX.search(s)))


def _timed(connect, queries: list[str]) -> tuple[int | None, float]:
    clock = time.monotonic()
    with connect() as conn:
        for query in queries:
            cur = conn.execute(query)
        result = cur.fetchone()[0] if cur.description else None
    return result, time.monotonic() - clock
