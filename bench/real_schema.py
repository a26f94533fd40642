"""Acceptance (not in make test): a real application's schema from start to report.

Danbooru's published structure.sql (../shared/schemas) is profiled by the files path with `--rows` counts,
its twin is built on the embedded server with `--stand-in-missing` (it lacks pgcrypto) or on PostgreSQL 15
(`--postgres-bin /usr/lib/postgresql/15/bin`, which has it), the generic application of `--workload tables`
runs on a clone of the twin, and `ALTER TABLE … ADD COLUMN … DEFAULT`
and `CREATE INDEX` are rehearsed under it on the twin (`run --profile --workload tables`), each to its HTML
report. A files profile has no
pg_stat_user_tables rates: this script gives each table rates proportional to its rows (stated below).

    PYTHONPATH=. python bench/real_schema.py [--rows 2000] [--rate 200] [--postgres-bin DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/datagen.py shadows datagen
sys.path.insert(0, str(HERE.parent))

import datagen  # noqa: E402
import dbserver  # noqa: E402
from common.errors import RehearsalError  # noqa: E402
from datagen.profile import from_files  # noqa: E402
from datagen.profile.model import Rates  # noqa: E402
from datagen.twin import summary  # noqa: E402
from rehearse.measure.replay.tables import TablesApp  # noqa: E402
from rehearse.measure.workload import Workload, WorkloadConfig  # noqa: E402

SCHEMA = HERE.parent.parent / "shared" / "schemas" / "danbooru.structure.sql"
BIG = {"posts": 10, "tags": 5, "comments": 3, "favorites": 10, "post_votes": 5}  # × --rows
MIGRATIONS = {
    "add column with default": "ALTER TABLE posts ADD COLUMN reviewed boolean NOT NULL DEFAULT false;\n",
    "create index": "CREATE INDEX posts_score_created ON posts (score, created_at);\n",
}
RESULTS = HERE / "RESULTS-real-schema.md"


def rates(rows: float) -> Rates:
    """Per second: one index scan per 50 rows, one insert per 1000, one update per 500 (half HOT), one
    delete per 10 000 — a read-mostly web application, stated here because a files profile has none."""
    return Rates(3600.0, 0.0, rows / 50, rows / 1000, rows / 500, rows / 10000, rows / 1000)


def profile_of(rows: int):
    base = from_files(SCHEMA, rows=None, values=False)
    counts = ",".join(f"{t.name}={rows * BIG.get(t.name, 1)}" for t in base.tables if t.kind == "r")
    found = from_files(SCHEMA, rows=counts, values=False)
    tables = tuple(dataclasses.replace(t, rates=rates(max(t.reltuples, 0))) for t in found.tables)
    return dataclasses.replace(found, tables=tables)


def replay(server, twin, profile, rate: float, seconds: float) -> tuple[dict, object]:
    app = TablesApp(profile)
    with dbserver.clone(server, twin.name) as scratch:
        work = Workload(server, scratch, WorkloadConfig(rate=rate, clients=8), apps={"current": app})
        work.start()
        time.sleep(seconds)
        frame = work.stop()
    numbers = dict(
        kinds=len(app.statements),
        skipped=len(app.skipped),
        transactions=len(frame),
        tx_per_s=len(frame) / seconds,
        error_share=float((~frame["ok"]).mean()) if len(frame) else 0.0,
        p99_ms=float(frame["latency_ms"].quantile(0.99)) if len(frame) else None,
        errors=frame[~frame["ok"]].groupby("sqlstate").size().to_dict(),
    )
    return numbers, app


def rehearse_each(path: Path, scale: float, rate: float, postgres_bin: str | None) -> list[str]:
    """Each migration rehearsed on the twin under the generic application, judged, its HTML report written."""
    import rehearse

    lines = ["| migration | status | strongest lock | rewrote | ms | app tx | app errors | p99 during ms | verdict |"]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for name, sql in MIGRATIONS.items():
        migration = path.parent / f"{name.replace(' ', '_')}.sql"
        migration.write_text(sql)
        options = dict(profile=str(path), scale=scale, workload="tables", rate=rate, warmup=3, cooldown=3)
        try:
            result = rehearse.run(
                str(migration), postgres_bin=postgres_bin, stand_in_missing=postgres_bin is None, **options
            )
        except RehearsalError as exc:  # say what stopped it, and keep the numbers measured so far
            return lines + [f"| {name} | FAILED: {exc} ||||||||"]
        page = rehearse.report(result.run_id)
        st, level = rehearse.summary(result), rehearse.judge(result).level
        first, during = st["statements"][0], st["workload"]["during"]
        lines.append(
            f"| {name} | {first['status']} | {first['strongest_lock']} | {first['rewrote']} | "
            f"{first['duration_ms']:.0f} | {len(result.workload)} | {int((~result.workload['ok']).sum())} | "
            f"{during['p99_ms'] or 0:.0f} | {level} |"
        )
        lines.append(
            f"|  | report: {page.relative_to(HERE.parent) if page.is_relative_to(HERE.parent) else page} ||||||||"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres-bin")
    args = parser.parse_args()
    if not SCHEMA.exists():
        print(f"FAILED: {SCHEMA} not found; this acceptance needs ../shared/schemas")
        return 2
    server = dbserver.open_server(postgres_bin=args.postgres_bin)
    profile = profile_of(args.rows)
    started = time.perf_counter()
    stand_in = args.postgres_bin is None
    twin = datagen.build_twin(profile, 1.0, 42, server, stand_in_missing=stand_in, progress=False)
    built = time.perf_counter() - started
    numbers, app = replay(server, twin, profile, args.rate, args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        path = profile.write(Path(tmp) / "danbooru.json")
        rehearsals = rehearse_each(path, 1.0, args.rate, args.postgres_bin)
    lines = report(server, profile, twin, built, numbers, rehearsals)
    print("\n".join(lines))
    RESULTS.write_text("\n".join(lines) + "\n")
    return 0 if numbers["transactions"] and numbers["error_share"] < 0.05 else 1


def report(server, profile, twin, built, numbers, rehearsals) -> list[str]:
    rows = sum(twin.manifest["rows"].values())
    columns = summary.columns_frame(twin.manifest)
    stand_ins = summary.stand_ins_frame(twin.manifest)
    return [
        "# A real schema end to end (bench/real_schema.py)",
        "",
        f"danbooru structure.sql on PostgreSQL {server.version}: {len(profile.tables)} tables, {rows:,} rows, "
        f"twin built in {built:.1f} s (reused when it existed: rebuild by dropping it)",
        f"stand-ins: {len(stand_ins)} ({', '.join(sorted(set(stand_ins['extension']))) or 'none'}), "
        f"{(stand_ins['kind'] == 'index').sum()} indexes left out",
        f"columns within bounds: {int(columns['within'].sum())} of {len(columns)} (no statistics: defaults)",
        "",
        f"--workload tables on a clone: {numbers['kinds']} kinds ({numbers['skipped']} skipped), "
        f"{numbers['transactions']} transactions, {numbers['tx_per_s']:.0f} tx/s, "
        f"errors {numbers['error_share']:.2%} {numbers['errors']}, p99 {numbers['p99_ms']:.1f} ms",
        "",
        *rehearsals,
        "",
        "Run on a shared 2-core machine, no edits to the schema. The application errors are the generic "
        "application's, before the migration as after it: 23505 where a unique column other than the key takes "
        "sampled values (and can collide), 23503 where a delete meets a referencing row. They fail as often "
        "before the migration as after it, so the verdicts leave them out (the application's own background).",
    ]


if __name__ == "__main__":
    sys.exit(main())
