"""`make demo`: build the dataset, execute every incident notebook at demo scale, write HTML reports."""

from __future__ import annotations

import argparse
import sys
import time

from rehearse.present.notebooks import NOTEBOOKS, execute, reports_dir, to_html, write_index

DEMO_NOTEBOOKS = (
    "00_dataset",
    "01_type_change_transaction_id",
    "02_foreign_key_on_inconsistent_data",
    "03_incompatible_change_under_traffic",
    "04_backfill_single_vs_batched",
    "05_script_fails_halfway",
    "10_rehearse_your_migration",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearse.present.demo", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1, help="dataset scale factor (1 = 10 M orders)")
    parser.add_argument("--only", nargs="*", help="notebook names to run (default: all)")
    args = parser.parse_args(argv)
    pages, failures = [], 0
    out = reports_dir()
    for name in args.only or DEMO_NOTEBOOKS:
        notebook = NOTEBOOKS / f"{name}.ipynb"
        if not notebook.exists():
            print(f"skipping {name}: notebooks/{name}.ipynb does not exist yet", flush=True)
            continue
        outcome = _run_one(notebook, name, args.scale, out)
        failures += outcome != "ok"
        pages.append((name, out / f"{name}.html", outcome))
    index = write_index(pages, out / "index.html")
    print(f"\nreports: {index}")
    return 1 if failures else 0


def _run_one(notebook, name: str, scale: float, out) -> str:
    """Execute one notebook; a failure is reported and the executed notebook kept as its report."""
    started = time.time()
    print(f"running {name} at scale {scale} …", flush=True)
    executed = out / f"{name}.ipynb"
    outcome = "ok"
    try:
        execute(notebook, {"scale": scale}, executed)
    except Exception as exc:  # papermill raises on any failed cell; the executed notebook shows where
        outcome = f"FAILED: {str(exc).strip().splitlines()[-1][:200]}"
    if executed.exists():
        to_html(executed, out / f"{name}.html")
    print(f"  {name}: {outcome} in {time.time() - started:.0f} s → {out / (name + '.html')}", flush=True)
    return outcome


if __name__ == "__main__":
    sys.exit(main())
