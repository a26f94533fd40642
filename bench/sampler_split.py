"""Where a fast tick's CPU goes: each piece of the sampler's work alone, its server CPU (the sampler's
backend) and its client CPU (the calling thread), beside a saturated workload while the migration holds a
lock (the conditions of bench/sampler_overhead.py's "migrating" mode). Called from that script.

Pieces that reproduce the tick before this change: the snapshot through psycopg's cursor, parsed and stored
at every tick, and the snapshot with relation names joined on the server.
"""

from __future__ import annotations

import time

import psutil

from rehearse.measure import sampler_queries as q
from rehearse.measure.executor import APPLICATION_NAME as MIGRATION
from rehearse.measure.sampler import APPLICATION_NAME as SAMPLER
from rehearse.measure.sampler_columns import Columns
from rehearse.measure.sampler_cpu import CpuMeter
from rehearse.measure.sampler_raw import RawQuery
from rehearse.measure.workload import Workload, WorkloadConfig

# The names the snapshot used to join at every tick, as it joined them (pg_class and pg_namespace).
_JOINED = """
    WITH s AS ({snapshot})
    SELECT s.*, (SELECT array_agg(n.nspname || '.' || c.relname) FROM unnest(s.l_relid) r
                   LEFT JOIN pg_class c ON c.oid = r LEFT JOIN pg_namespace n ON n.oid = c.relnamespace),
           (SELECT array_agg(c.relkind) FROM unnest(s.l_relid) r LEFT JOIN pg_class c ON c.oid = r)
      FROM s"""


def _pieces(conn, server, params: dict) -> dict:
    """name → a function doing that piece once."""
    snapshot = q.snapshot_sql(server.version_num, progress=False)
    raw = {
        "round trip alone (SELECT 1)": "SELECT 1",
        "pg_stat_get_activity() alone": "SELECT count(*) FROM pg_stat_get_activity(NULL)",
        "pg_lock_status() alone": "SELECT count(*) FROM pg_lock_status()",
        "snapshot, as a fast tick runs it": snapshot,
        "snapshot with names joined on the server (before)": _JOINED.format(snapshot=snapshot),
        "load counters (every 100 ms)": q.load_sql(server.version_num),
        "progress views (every 100 ms)": q.progress_sql(),
    }
    pieces = {"nothing (the loop's 10 ms sleep)": lambda: None}
    for i, (name, sql) in enumerate(raw.items()):
        args = ("0/0",) if "%s" in sql else params
        pieces[name] = RawQuery(conn, f"bench_piece_{i}", sql, args).run
    columns = [Columns(q.ACTIVITY_COLUMNS), Columns(dict.fromkeys(q.LOCK_QUERY_COLUMNS, "object"))]

    def cursor_path():
        before = time.time()
        row = conn.execute(snapshot, params, prepare=True, binary=True).fetchone()
        after = time.time()
        arrays = iter(row)
        for store in columns:
            store.add_arrays(
                (before + after) / 2,
                after - before,
                {name: next(arrays) for name in store.dtypes if name not in ("t", "rtt")},
            )

    pieces["snapshot through psycopg's cursor, parsed at the tick (before)"] = cursor_path
    pieces["server CPU meter (every 100 ms, client only)"] = CpuMeter(server.postmaster_pid()).read
    return pieces


def split(server, dbname: str, repeats: int = 200, rounds: int = 3) -> list[dict]:
    """Per piece: server and client CPU, ms per call (rounds interleaved, 10 ms apart like fast ticks)."""
    with (
        server.connect(dbname, application_name=MIGRATION) as migration,
        server.connect(dbname, autocommit=True, application_name=SAMPLER) as conn,
    ):
        conn.execute("SET jit = off")
        migration.execute("BEGIN")
        migration.execute("LOCK TABLE bench_side IN ACCESS EXCLUSIVE MODE")
        database = conn.execute(q.DATABASE_OID_SQL).fetchone()[0]
        pieces = _pieces(conn, server, dict(full=False, watch=MIGRATION, database=database))
        backend = psutil.Process(conn.info.backend_pid)
        used = {name: [0.0, 0.0] for name in pieces}
        workload = Workload(server, dbname, WorkloadConfig(rate=4000, clients=8))
        workload.start()
        for _ in range(rounds):
            for name, piece in pieces.items():
                server_before, client_before = sum(backend.cpu_times()[:2]), time.thread_time()
                for _ in range(repeats):
                    piece()
                    time.sleep(0.01)
                used[name][0] += sum(backend.cpu_times()[:2]) - server_before
                used[name][1] += time.thread_time() - client_before
        workload.stop()
    calls = repeats * rounds
    return [dict(piece=name, server_ms=s / calls * 1e3, client_ms=c / calls * 1e3) for name, (s, c) in used.items()]


def split_table(rows: list[dict]) -> str:
    lines = ["| piece | server CPU, ms per call | client CPU, ms per call |", "|---|---|---|"]
    lines += [f"| {r['piece']} | {r['server_ms']:.3f} | {r['client_ms']:.3f} |" for r in rows]
    return "\n".join(lines)
