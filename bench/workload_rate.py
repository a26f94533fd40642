"""How fast can the synthetic application go open-loop here? Steps the rate until the schedule slips.

A step sustains its rate when under 1 % of the due transactions start more than 100 ms late or not at all
(`shortfall`). Ratios are against the first step, measured in the same run.

    .venv/bin/python bench/workload_rate.py [--seconds 5] [--rates 100,200,...] [--save]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import dbserver  # noqa: E402
from rehearse.measure.workload import Workload, WorkloadConfig

ROOT = Path(__file__).resolve().parents[1]
LATE_S = 0.100
# Independent of datagen on purpose (built in parallel): enough rows that ids spread over real pages.
FILL = """
INSERT INTO customers (email, full_name, street, city, country, created_at)
  SELECT 'c' || g || '@example.com', 'Customer ' || g, g || ' Main St', 'Springfield', 'US',
         now() - g * interval '1 minute' FROM generate_series(1, 20000) g;
INSERT INTO products (sku, name, category, price, created_at)
  SELECT 'SKU-' || g, 'Product ' || g, 'misc', 1 + g % 97, now() FROM generate_series(1, 2000) g;
INSERT INTO orders (customer_id, order_status, transaction_id, total_amount, currency, created_at, updated_at)
  SELECT 1 + g % 20000, 'delivered', (100000000000 + g)::text, 10 + g % 90, 'EUR',
         now() - g * interval '10 seconds', now() FROM generate_series(1, 200000) g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
  SELECT 1 + g % 200000, 1 + g % 2000, 1 + g % 3, 5 FROM generate_series(1, 500000) g;
INSERT INTO payments (order_id, method, status, amount, transaction_id, created_at)
  SELECT order_id, 'card', 'captured', total_amount, transaction_id, created_at FROM orders;
"""


def make_shop(server, dbname: str) -> None:
    with server.connect(dbname) as conn:
        for name in ("schema_tables.sql", "schema_constraints.sql"):
            conn.execute((ROOT / "datagen" / name).read_text())
        conn.execute(FILL)
        conn.execute("VACUUM ANALYZE")


def step(server, dbname: str, rate: float, seconds: float) -> dict:
    """One open-loop run at `rate`; what share of due transactions started late or never."""
    work = Workload(server, dbname, WorkloadConfig(rate=rate))
    work.start()
    time.sleep(seconds)
    frame = work.stop()
    delay = frame.actual_start - frame.intended_start
    late = int((delay > LATE_S).sum()) + work.stats["shortfall"]
    return {
        "rate": rate,
        "done_per_s": work.stats["completed"] / seconds,
        "short_pct": 100.0 * late / work.stats["intended"],
        "delay_p50_ms": float(np.percentile(delay, 50) * 1e3),
        "delay_p99_ms": float(np.percentile(delay, 99) * 1e3),
        "latency_p99_ms": float(np.percentile(frame.latency_ms, 99)),
        "errors": work.stats["errors"],
    }


def table(rows: list[dict]) -> str:
    base = rows[0]["done_per_s"]
    lines = [
        "| target tx/s | done tx/s | ratio vs first | late or missing % | sched. delay p50 ms "
        "| sched. delay p99 ms | latency p99 ms | errors |",
        "|" + " --- |" * 8,
    ]
    for r in rows:
        lines.append(
            f"| {r['rate']:.0f} | {r['done_per_s']:.0f} | {r['done_per_s'] / base:.2f} "
            f"| {r['short_pct']:.2f} | {r['delay_p50_ms']:.2f} | {r['delay_p99_ms']:.1f} "
            f"| {r['latency_p99_ms']:.1f} | {r['errors']} |"
        )
    return "\n".join(lines)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--seconds", type=float, default=5.0)
    args.add_argument("--rates", default="100,200,400,800,1600,3200")
    args.add_argument("--save", action="store_true", help="write bench/RESULTS-workload.md")
    opts = args.parse_args()
    server = dbserver.open_server()
    name = f"rehearsal_bench_{secrets.token_hex(4)}"
    dbserver.create(server, name, "scratch")
    try:
        make_shop(server, name)
        rows = [step(server, name, float(r), opts.seconds) for r in opts.rates.split(",")]
    finally:
        dbserver.drop(server, name)
    ok = [r["rate"] for r in rows if r["short_pct"] < 1.0]
    verdict = f"Highest sustained rate: **{max(ok):.0f} tx/s**" if ok else "No step was sustained."
    report = (
        f"# Workload open-loop rate\n\n{os.cpu_count()} cores, PostgreSQL {server.version}, "
        f"Python {platform.python_version()}, 8 clients (threads), default mix, "
        f"{opts.seconds:.0f} s per step, 'late' = started > {LATE_S * 1e3:.0f} ms after due.\n\n"
        f"{table(rows)}\n\n{verdict} (< 1 % late or missing).\n"
    )
    print(report)
    if opts.save:
        (ROOT / "bench" / "RESULTS-workload.md").write_text(report)


if __name__ == "__main__":
    main()
