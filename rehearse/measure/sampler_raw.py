"""A prepared statement the sampler runs at every tick, kept as the server's bytes and parsed at the end.

At 100 ticks a second the client side of a snapshot cost as much CPU as the server's: psycopg's cursor,
its row parsing and the column stores took ~0.25 ms a tick, over 1 % of a 2-core machine on their own.
Here a tick is libpq's round trip and a list of the row's binary values (`psycopg.pq`, the library's own
libpq binding); psycopg's loaders parse them in `parsed()`, which the sampler calls when it stops, after
the application has stopped (and now and then before, so memory stays bounded: `Sampler._DRAIN_AT`).
"""

from __future__ import annotations

import time

import psycopg
from psycopg import pq
from psycopg.adapt import Transformer


class RawQuery:
    """`sql` with `params` inlined, prepared once on `conn` as `name`; `run()` executes it and keeps its one row."""

    def __init__(self, conn: psycopg.Connection, name: str, sql: str, params: dict | None = None):
        self._pg, self._name, self._encoding = conn.pgconn, name.encode(), conn.info.encoding
        text = psycopg.ClientCursor(conn).mogrify(sql, params) if params else sql
        self._check(self._pg.prepare(self._name, text.encode(self._encoding)), pq.ExecStatus.COMMAND_OK)
        described = self._pg.describe_prepared(self._name)
        transformer = Transformer(conn)
        self._loaders = [
            transformer.get_loader(described.ftype(i), pq.Format.BINARY).load for i in range(described.nfields)
        ]
        self.rows: list[list] = []  # [t, rtt, raw values, tag]

    def run(self) -> list[bytes | None] | None:
        """Execute, keep the row with the middle of the round trip (time.time()) and its duration; the row's raw
        binary values (None for NULL), or None when there was no row (nothing kept)."""
        before = time.time()
        result = self._pg.exec_prepared(self._name, None, result_format=pq.Format.BINARY)
        after = time.time()
        self._check(result, pq.ExecStatus.TUPLES_OK)
        if not result.ntuples:
            return None
        values = [result.get_value(0, i) for i in range(len(self._loaders))]
        self.rows.append([(before + after) / 2, after - before, values, None])
        return values

    def tag_last(self, tag) -> None:
        """Attach `tag` to the row just kept (`parsed()` gives it back with the row)."""
        self.rows[-1][3] = tag

    def loader(self, i: int):
        """The function that parses column `i`'s raw value."""
        return self._loaders[i]

    def parsed(self):
        """The rows kept so far, as (t, rtt, Python values, tag), forgotten once read."""
        rows, self.rows = self.rows, []
        for t, rtt, values, tag in rows:
            yield t, rtt, [None if v is None else load(v) for load, v in zip(self._loaders, values)], tag

    def _check(self, result, status) -> None:
        if result.status != status:
            raise psycopg.errors.error_from_result(result, encoding=self._encoding)
