"""Fidelity and overhead of a rehearsal: measured lock hold and blocked time against known truths.

Ground truth: `LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(x)` holds the lock for x
seconds (plus the sleep statement's own round trip). Targets: lock hold within ±max(5 ms, 2 %) of x, the
longest application wait within ±20 ms of x, and the workload's saturated throughput with the 10 ms
sampler running at most 3 % below the throughput without it (the baseline, measured in the same run).

    .venv/bin/python bench/fidelity.py [--scale 0.01] [--save]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# bench/datagen.py would shadow the datagen package for a script run from this folder.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import datagen  # noqa: E402
import dbserver  # noqa: E402
from rehearse import run
from rehearse.analysis.summary import summary
from rehearse.measure.sampler_process import SamplerProcess
from rehearse.measure.workload import Workload, WorkloadConfig

HOLDS = (0.1, 0.5, 2.0)


def lock_truth(scale: float, seed: int, hold: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ground_truth.sql"
        path.write_text(f"LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep({hold});\n")
        data = summary(run(path, scale=scale, seed=seed, rate=200, clients=8, warmup=1, cooldown=1))
    lock = data["statements"][0]
    truth_ms = hold * 1000
    return dict(
        truth_ms=truth_ms,
        hold_ms=lock["lock_hold_ms"],
        hold_err_ms=lock["lock_hold_ms"] - truth_ms,
        hold_ok=abs(lock["lock_hold_ms"] - truth_ms) <= max(5, 0.02 * truth_ms),
        blocked_ms=lock["blocked_app_ms_max"],
        blocked_err_ms=lock["blocked_app_ms_max"] - truth_ms,
        blocked_ok=abs(lock["blocked_app_ms_max"] - truth_ms) <= 20,
        blocked_tx=lock["blocked_app_tx"],
    )


def saturated_throughput(server, dbname: str, with_sampler: bool, seconds: float, rate: float) -> float:
    """Completed tx/s when asking for more than the machine can do: what the sampler's cost would show in."""
    sampler = SamplerProcess(server, dbname, interval=0.01) if with_sampler else None
    workload = Workload(server, dbname, WorkloadConfig(rate=rate, clients=8))
    if sampler:
        sampler.start()
    workload.start()
    time.sleep(seconds)
    records = workload.stop()
    if sampler:
        sampler.stop()
    done = records[records["ok"]]
    return len(done) / seconds


def overhead(scale: float, seed: int, seconds: float, rounds: int) -> dict:
    server = dbserver.open_server()
    dataset = datagen.build(scale=scale, seed=seed, progress=False)
    without, with_ = [], []
    with dbserver.clone(server, dataset.name) as scratch:
        for _ in range(rounds):  # interleaved, so drift on a noisy machine hits both alike
            without.append(saturated_throughput(server, scratch, False, seconds, rate=4000))
            with_.append(saturated_throughput(server, scratch, True, seconds, rate=4000))
    base, sampled = max(without), max(with_)
    return dict(without=base, with_sampler=sampled, ratio=sampled / base, ok=sampled / base >= 0.97)


def render(rows: list[dict], cost: dict) -> str:
    lines = [
        "| hold x (ms) | measured hold (ms) | error | within ±max(5 ms, 2 %) | longest app wait (ms) "
        "| error | within ±20 ms | app tx blocked |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['truth_ms']:.0f} | {r['hold_ms']:.1f} | {r['hold_err_ms']:+.1f} | "
            f"{'yes' if r['hold_ok'] else 'NO'} | {r['blocked_ms']:.0f} | {r['blocked_err_ms']:+.0f} | "
            f"{'yes' if r['blocked_ok'] else 'NO'} | {r['blocked_tx']} |"
        )
    lines += [
        "",
        "| saturated workload | tx/s | ratio to baseline |",
        "|---|---|---|",
        f"| without sampler (baseline) | {cost['without']:.0f} | 1.00 |",
        f"| with sampler every 10 ms | {cost['with_sampler']:.0f} | {cost['ratio']:.3f} "
        f"({'within' if cost['ok'] else 'OVER'} the 3 % budget) |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seconds", type=float, default=4.0, help="per throughput measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--save", action="store_true", help="write bench/RESULTS-fidelity.md")
    args = parser.parse_args()
    rows = [lock_truth(args.scale, args.seed, hold) for hold in HOLDS]
    table = render(rows, overhead(args.scale, args.seed, args.seconds, args.rounds))
    print(table)
    if args.save:
        Path(__file__).with_name("RESULTS-fidelity.md").write_text(
            "# Rehearsal fidelity and sampler overhead\n\n" + table + "\n"
        )


if __name__ == "__main__":
    main()
