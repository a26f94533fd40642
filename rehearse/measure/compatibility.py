"""Does the application's SQL still work? Its queries checked against the schema before, during and after
the migration, and for each one that breaks: when, with which SQLSTATE, and which migration statement did it.

Each check runs in a transaction that is always rolled back, so a write the application would make leaves
nothing behind. A query without parameters runs for real; one with `$n` placeholders (as in a
pg_stat_statements export) has no values to run with, so it is planned without them — `EXPLAIN
(GENERIC_PLAN)` from PostgreSQL 16 on, `PREPARE` before that — which resolves every table, column, function
and operator against the schema of the moment: what a rename, drop or retype breaks.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import psycopg

from common.errors import BadInput
from rehearse.measure import transactions as tx
from rehearse.sql import parse as _sqlparse

APPLICATION_NAME = "rehearsal-compat"
WORKLOAD = "workload"  # --app-queries workload: the synthetic app's own queries, for each --app-versions set
PROBED = ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")  # what EXPLAIN accepts
# A check that waited too long on a lock, ran too long, lost its connection or a deadlock says nothing about
# compatibility: inconclusive, left out of the verdict on the query.
INCONCLUSIVE = ("55P03", "57014", "08001", "08006", "57P01", "40P01", "40001")
COLUMNS = ["query", "start", "t", "ok", "sqlstate", "message"]
# The types psycopg sends for the synthetic app's parameters (str as varchar: see workload._connect), so its
# queries are checked with the types they really arrive with: a retyped column fails here as it does there.
_WORKLOAD_TYPES = {
    "customer_id": "bigint",
    "order_id": "bigint",
    "product_ids": "bigint[]",
    "quantities": "int[]",
    "transaction_id": "varchar",
    "currency": "varchar",
    "method": "varchar",
    "status": "varchar",
    "total_amount": "numeric",
}
_NAMED = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class AppQuery:
    name: str  # where it came from: 'queries.sql#3' or 'current:place_order#1'
    sql: str  # the SQL checked
    parameters: int  # how many $n placeholders: 0 → executed, else planned without values


def load(spec: str, versions: str = "current") -> list[AppQuery]:
    """The queries of --app-queries: a file, or 'workload' for the synthetic app's own (query sets `versions`)."""
    if spec == WORKLOAD:
        from rehearse.measure.workload import query_sets

        return [q for version in query_sets(versions) for q in workload_queries(version)]
    return read_file(spec)


def read_file(path: str | Path) -> list[AppQuery]:
    """Every DML statement of a `;`-separated SQL file; BadInput naming file and position when it does not
    parse. Other statements (BEGIN, SET, … as pg_stat_statements also lists them) are not checked."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"query file {path} not found; give --app-queries a file of SQL statements separated by ;")
    text = path.read_text(encoding="utf-8-sig")
    pieces = [p for p in _sqlparse.parse(text, str(path)) if type(p.node).__name__ in PROBED]
    if not pieces:
        raise BadInput(
            f"query file {path}: no SELECT, INSERT, UPDATE, DELETE or MERGE statement to check; "
            "give the application's queries, separated by ;"
        )
    return [AppQuery(f"{path.name}#{i}", p.sql, count_parameters(p.sql)) for i, p in enumerate(pieces, 1)]


def workload_queries(version: str = "current") -> list[AppQuery]:
    """The synthetic app's statements of one query set, %(name)s placeholders turned into typed $n."""
    return [
        AppQuery(f"{version}:{kind}#{i}", sql, count_parameters(sql))
        for kind, statements in tx.QUERIES[version].items()
        for i, sql in enumerate((_numbered(s) for s in statements), 1)
    ]


def _numbered(statement: str) -> str:
    order: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        cast = None if statement.startswith("::", match.end()) else _WORKLOAD_TYPES.get(match.group(1))
        return f"${order.index(match.group(1)) + 1}" + (f"::{cast}" if cast else "")

    return " ".join(_NAMED.sub(placeholder, statement).split())


def count_parameters(sql: str) -> int:
    import pglast

    return len({sql[t.start : t.end + 1] for t in pglast.parser.scan(sql) if t.name == "PARAM"})


class CompatibilityProbe:
    """A thread on its own connection checking every query each `interval` seconds until stop()."""

    def __init__(
        self,
        server,
        dbname: str,
        queries: list[AppQuery],
        interval: float = 0.2,
        lock_timeout_ms: int = 500,
        statement_timeout_ms: int = 5000,
    ):
        self.server, self.dbname, self.queries, self.interval = server, dbname, list(queries), interval
        self.timeouts = dict(lock_timeout=lock_timeout_ms, statement_timeout=statement_timeout_ms)
        self.method = "EXPLAIN (GENERIC_PLAN)" if server.version_num >= 160000 else "PREPARE"
        self._rows: list[tuple] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None

    def start(self) -> None:
        self._conn = self._connect()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="compat-probe")
        self._thread.start()

    def stop(self) -> pd.DataFrame:
        """Stop after the check under way; one row per check: query (its position), start, t (end), ok,
        sqlstate, message."""
        self._stopping.set()
        if self._thread:
            self._thread.join(30)
        if self._conn is not None:
            self._conn.close()
        return pd.DataFrame(self._rows, columns=COLUMNS)

    def to_dict(self) -> dict:
        return dict(method=self.method, interval=self.interval, queries=[asdict(q) for q in self.queries])

    def _connect(self) -> psycopg.Connection:
        conn = self.server.connect(self.dbname, autocommit=True, application_name=APPLICATION_NAME, connect_timeout=5)
        for name, ms in self.timeouts.items():
            conn.execute(f"SET {name} = {int(ms)}")
        return conn

    def _loop(self) -> None:
        while not self._stopping.is_set():
            for i, query in enumerate(self.queries):
                if self._stopping.is_set():
                    return
                self._rows.append((i,) + self._check(query))
            self._stopping.wait(self.interval)

    def _check(self, query: AppQuery) -> tuple:
        start = time.time()
        try:
            if self._conn is None or self._conn.broken:
                self._conn = self._connect()
            with self._conn.transaction(force_rollback=True):  # whatever it writes is rolled back
                self._run(query)
        except psycopg.Error as exc:  # libpq gives no SQLSTATE for a lost connection (class 08, as workload)
            state = exc.sqlstate or ("08001" if self._conn is None or self._conn.closed else "08006")
            return start, time.time(), False, state, (str(exc).splitlines() or [type(exc).__name__])[0]
        return start, time.time(), True, None, None

    def _run(self, query: AppQuery) -> None:
        if not query.parameters:
            self._conn.execute(query.sql)  # no parameters passed: psycopg sends the text as it is
        elif self.method == "PREPARE":
            self._conn.execute(f"PREPARE rehearsal_compat AS {query.sql}")
            self._conn.execute("DEALLOCATE rehearsal_compat")  # PREPARE outlives a rollback
        else:
            self._conn.execute(f"EXPLAIN (GENERIC_PLAN) {query.sql}")
