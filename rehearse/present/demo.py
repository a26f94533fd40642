"""`make demo`: build the dataset, execute every incident notebook at demo scale, review a release made of
incident migrations, write the HTML reports and the front page (`data/reports/index.html`).

What ran is recorded in `data/reports/demo.json` (each notebook's outcome and the runs it saved, the
release's review id); `--index-only` rebuilds the front page from that record and the saved runs, without a
database.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from rehearse.measure.result import runs_dir
from rehearse.present import frontpage, frontpage_runs
from rehearse.present.notebooks import NOTEBOOKS, execute, reports_dir, to_html

DEMO_NOTEBOOKS = (
    "00_dataset",
    "01_type_change_transaction_id",
    "02_foreign_key_on_inconsistent_data",
    "03_incompatible_change_under_traffic",
    "04_backfill_single_vs_batched",
    "05_script_fails_halfway",
    "10_rehearse_your_migration",
)
# The demo release: the safer foreign key of incident 02, then incident 01's one-step type change, as a
# Flyway folder whose files link to theirs. One safe migration and one that is not: a real decision.
RELEASE = "migrations/release_incidents"
RELEASE_OPTIONS = dict(rate=200.0, warmup=3.0, cooldown=3.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rehearse.present.demo", description=__doc__)
    parser.add_argument("--scale", type=float, default=0.1, help="dataset scale factor (1 = 10 M orders)")
    parser.add_argument("--only", nargs="*", help="notebook names to run (default: all)")
    parser.add_argument("--no-release", action="store_true", help="skip the demo release's review")
    parser.add_argument("--index-only", action="store_true", help="rebuild the front page from the saved runs")
    args = parser.parse_args(argv)
    if args.index_only:
        print(f"reports: {frontpage.write()}")
        return 0
    out = reports_dir()
    record = dict(scale=args.scale, started=_now(), pages=[])
    for name in args.only or DEMO_NOTEBOOKS:
        notebook = NOTEBOOKS / f"{name}.ipynb"
        if not notebook.exists():
            print(f"skipping {name}: notebooks/{name}.ipynb does not exist yet", flush=True)
            continue
        before = _saved_runs()
        outcome = _run_one(notebook, name, args.scale, out)
        runs = sorted(_saved_runs() - before)
        record["pages"].append(dict(name=name, page=f"{name}.html", outcome=outcome, runs=runs))
    if not args.no_release:
        record["release"] = _release(args.scale)
    record["finished"] = _now()
    (out / frontpage_runs.RECORD).write_text(json.dumps(record, indent=2))
    print(f"\nreports: {frontpage.write(record, out)}")
    failed = [p for p in record["pages"] if p["outcome"] != "ok"]
    return 1 if failed or record.get("release", {}).get("outcome", "ok") != "ok" else 0


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


def _release(scale: float) -> dict:
    """`rehearse review migrations/release_incidents` at demo scale: its page and its runs' reports. A NO-GO is
    the expected outcome (the type change is over max_risk); only a review that could not run is a failure."""
    from common.paths import project_root
    from rehearse.present.release import page
    from rehearse.present.report import write
    from rehearse.verdicts.review import review

    started = time.time()
    print(f"reviewing the release {RELEASE} at scale {scale} …", flush=True)
    try:
        done = review([project_root() / RELEASE], max_risk="amber", scale=scale, **RELEASE_OPTIONS)
    except Exception as exc:  # the front page says the release could not be reviewed, and why
        print(f"  release: FAILED: {exc}", flush=True)
        return dict(outcome=f"FAILED: {str(exc).strip()[:200]}")
    for run_id in done.release["run_ids"]:
        write(run_id)
    written = page.write(done.review_id, done.release)
    print(f"  release: {done.release['decision'].upper()} in {time.time() - started:.0f} s → {written}", flush=True)
    return dict(outcome="ok", review_id=done.review_id, page=written.name)


def _saved_runs() -> set[str]:
    return {p.name for p in runs_dir().iterdir() if p.is_dir()} if runs_dir().is_dir() else set()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


if __name__ == "__main__":
    sys.exit(main())
