"""Replay vs native: migrations 01 and 04 (risky) rehearsed under the built-in app, then under its own
statements exported as pg_stat_statements would list them (rehearse.measure.replay.export) and replayed
with --workload; blocked transactions and p99 during the migration within ±25 %, same SQLSTATEs.

    .venv/bin/python bench/replay_acceptance.py [--scale 0.1] [--rate 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rehearse  # noqa: E402
from rehearse.measure.replay import export  # noqa: E402

MIGRATIONS = ("migrations/01_type_change_transaction_id/risky", "migrations/04_backfill_single_vs_batched/risky")


def numbers(result) -> dict:
    s = rehearse.summary(result)
    return dict(
        blocked=sum(st["blocked_app_tx"] for st in s["statements"]),
        p99=s["workload"]["during"]["p99_ms"],
        states=",".join(sorted({e["sqlstate"] for e in s["errors"] if e["sqlstate"]})) or "-",
    )


def row(name: str, metric: str, native, replay) -> str:
    if isinstance(native, str):
        return f"| {name} | {metric} | {native} | {replay} | | {'✓' if native == replay else '✗'} |"
    error = (replay - native) / native if native else 0.0
    return f"| {name} | {metric} | {native:.0f} | {replay:.0f} | {error:+.0%} | {'✓' if abs(error) <= 0.25 else '✗'} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=200)
    args = parser.parse_args()
    options = dict(scale=args.scale, rate=args.rate, warmup=3.0, cooldown=3.0)
    lines = ["| migration | metric | native | replay | error | ±25 % |", "|" + " --- |" * 6]
    with tempfile.TemporaryDirectory() as tmp:
        first = rehearse.run(MIGRATIONS[1], **options)  # the run whose counts the export carries
        pgss = export.write_csv(export.builtin(first.frames["workload"]), Path(tmp) / "pgss.csv")
        for path in MIGRATIONS:
            native = numbers(rehearse.run(path, **options))
            replay = numbers(rehearse.run(path, workload=str(pgss), **options))
            name = path.split("/")[1][:2] + " risky"
            lines += [row(name, m, native[m], replay[m]) for m in ("blocked", "p99", "states")]
            print("\n".join(lines[-3:]), flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
