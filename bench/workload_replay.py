"""Replay throughput: the application's recorded point reads (a pg_stat_statements-style export) replayed
open loop vs the built-in application, at the same target rates, in the same run on the same database.

A step sustains its rate when under 1 % of due transactions start > 100 ms late or not at all.

    .venv/bin/python bench/workload_replay.py [--seconds 5] [--rates 400,800,1600] [--save]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import dbserver  # noqa: E402
from bench.workload_rate import LATE_S, make_shop  # noqa: E402
from rehearse.measure.replay.app import ReplayApp  # noqa: E402
from rehearse.measure.workload import Workload, WorkloadConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
POINT_READS = """query,calls,mean_exec_time,rows
"SELECT order_id, customer_id, order_status, total_amount, currency, created_at, updated_at FROM orders WHERE order_id = $1",700,0.05,700
SELECT order_item_id FROM order_items WHERE order_item_id = $1,200,0.05,200
SELECT customer_id FROM customers WHERE customer_id = $1,100,0.05,100
"""


def step(server, dbname: str, rate: float, seconds: float, apps) -> dict:
    work = Workload(server, dbname, WorkloadConfig(rate=rate), apps=apps)
    work.start()
    time.sleep(seconds)
    frame = work.stop()
    delay = frame.actual_start - frame.intended_start
    late = int((delay > LATE_S).sum()) + work.stats["shortfall"]
    return dict(
        done=work.stats["completed"] / seconds,
        late_pct=100.0 * late / work.stats["intended"],
        p99=float(np.percentile(frame.latency_ms, 99)),
        errors=work.stats["errors"],
    )


def table(rows: list[tuple[float, dict, dict]]) -> str:
    lines = [
        "| target tx/s | built-in done tx/s | late % | replay done tx/s | late % | replay ÷ built-in "
        "| replay p99 ms | replay errors |",
        "|" + " --- |" * 8,
    ]
    for rate, native, replay in rows:
        ok = "✓" if replay["late_pct"] < 1 else "✗"
        lines.append(
            f"| {rate:.0f} | {native['done']:.0f} | {native['late_pct']:.1f} | {replay['done']:.0f} "
            f"| {replay['late_pct']:.1f} {ok} | {replay['done'] / native['done']:.2f} "
            f"| {replay['p99']:.1f} | {replay['errors']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="400,800,1600")
    parser.add_argument("--save", action="store_true", help="write bench/RESULTS-replay.md")
    args = parser.parse_args()
    server = dbserver.open_server(None)
    name = f"rehearsal_bench_{secrets.token_hex(4)}"
    export = Path("/tmp") / f"{name}.csv"
    export.write_text(POINT_READS)
    dbserver.create(server, name, "scratch")
    try:
        make_shop(server, name)
        rows = []
        for rate in (float(r) for r in args.rates.split(",")):
            native = step(server, name, rate, args.seconds, None)
            replay = step(server, name, rate, args.seconds, {"current": ReplayApp(export)})
            rows.append((rate, native, replay))
            print(table(rows).splitlines()[-1], flush=True)
    finally:
        dbserver.drop(server, name)
        export.unlink()
    text = table(rows)
    print(text)
    if args.save:
        (ROOT / "bench" / "RESULTS-replay.md").write_text(
            "# Replay throughput (bench/workload_replay.py)\n\nPoint reads by primary key replayed from a "
            "pg_stat_statements-style export vs the built-in application, same rates, same run, same "
            f"database (200 k orders), {args.seconds:.0f} s per step, 8 clients, 2 shared cores.\n\n" + text + "\n"
        )


if __name__ == "__main__":
    main()
