"""A loading process (python -m datagen._worker): loads and indexes the tables named on its stdin.

Protocol: a JSON setup line, then one table name per line, on stdin; JSON events on its original stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time

import psycopg
from psycopg.copy import QueuedLibpqWriter

from common.signals import ignore_in_child
from datagen import _pgbinary, finish, tables
from datagen.dirt import Dirt
from datagen.world import World


def main() -> None:
    ignore_in_child()  # Ctrl-C and SIGTERM are for the parent, which then ends this process
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the event stream
    setup = json.loads(sys.stdin.readline())
    world = World(scale=setup["scale"], seed=setup["seed"], dirt=Dirt(**setup["dirt"]), n_items=setup["n_items"])

    def send(event: str, table: str, **data) -> None:
        channel.write(json.dumps({"event": event, "table": table, **data}) + "\n")

    for line in sys.stdin:
        name = line.strip()
        try:
            rows, seconds = load_table(setup["url"], world, name, send, setup["index"])
        except psycopg.Error as exc:
            send("failed", name, sqlstate=exc.sqlstate, message=_first_line(exc))
        except Exception as exc:  # reported, not raised: the manager turns it into one clear error
            send("failed", name, sqlstate=None, message=f"{type(exc).__name__}: {_first_line(exc)}")
        else:
            send("done", name, rows=rows, seconds=seconds)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_table(url: str, world: World, name: str, send, index: bool = True) -> tuple[int, dict[str, float]]:
    """Rows loaded and seconds per step: load, then keys, indexes, sequence and statistics."""
    table = tables.BY_NAME[name]
    t0 = time.monotonic()
    with psycopg.connect(url) as conn:
        rows = _copy(conn, table, world, send)
        conn.commit()
        loaded = time.monotonic() - t0
        send("indexing", name)
        if index:
            conn.autocommit = True
            finish.index_table(conn, name, table.columns[0][0])
    return rows, {"load": loaded, "index": time.monotonic() - t0 - loaded}


def _copy(conn: psycopg.Connection, table: tables.Table, world: World, send) -> int:
    """TRUNCATE and COPY in one transaction, so COPY FREEZE may write the rows already frozen: no hint
    bit or freeze writes later, in the template or in any clone of it."""
    cur = conn.cursor()
    cur.execute(f"TRUNCATE {table.name}")
    # The queued writer sends on a thread while this one generates the next chunk.
    with cur.copy(tables.copy_sql(table), writer=QueuedLibpqWriter(cur)) as copy:
        copy.write(_pgbinary.HEADER)
        for columns in tables.generate(table, world):
            for data in tables.encode(table, columns):
                copy.write(data)
            send("rows", table.name, rows=len(columns[table.columns[0][0]]))
        copy.write(_pgbinary.TRAILER)
    return cur.rowcount


if __name__ == "__main__":
    main()
