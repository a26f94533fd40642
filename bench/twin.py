"""Acceptance: a twin of danbooru's published schema (row counts only, no statistics), its load against the
one-stream binary COPY ceiling of the same tables, measured in the same run, with 1 and N worker processes
and on a Dask LocalCluster.

    PYTHONPATH=. python bench/twin.py [--rows 150000] [--workers 2] [--postgres-bin /usr/lib/postgresql/15/bin]
        [--output bench/RESULTS-twin.md]

The ceiling: every table's rows, copied out of a first twin into binary COPY files, replayed before and
after each measured build (a twin's ratio uses the two around it, so the machine's changing load falls on
both sides) by one connection (TRUNCATE + COPY FREEZE, as the twin's whole-table units do) into a database holding the
same pre-data schema: what one stream gets into this server. The twin's load is its `load` phase: process
(or cluster) start-up, generation, encoding and COPY, with indexes and keys after it, as in every build.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import pglast  # noqa: E402
import psycopg  # noqa: E402

import datagen  # noqa: E402
import dbserver  # noqa: E402
from datagen.profile.model import Profile, Source, Table  # noqa: E402
from datagen.twin import schema  # noqa: E402

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "danbooru.structure.sql"
NOTES = """
- *ceiling*: every table's rows, copied out of a first twin into binary COPY files, replayed by one
  connection (TRUNCATE + COPY FREEZE per table) into a database holding the same pre-data schema, before
  and after each measured build: what one stream gets into this server. A twin's `÷ ceiling` divides the mean
  of the two ceilings around it by its own seconds, so a change in the machine's load between runs falls on
  both sides of each ratio.
- *twin*: the build's `load` phase (worker start-up, generation, binary encoding, COPY; whole tables with COPY
  FREEZE), in the same run; ≥ 1 is the target. *full build* adds the schema, keys, indexes, foreign keys,
  VACUUM, ANALYZE and the fidelity report. Each worker generates its next unit while its connection COPYs
  the last (datagen/twin/stream.py), so the server's COPY and the generator overlap.
- Ran on a shared 2-core machine: the server's COPY work and the generators share the same two cores, and
  other engineers' builds and tests share them too (the load averages above; when this file was written,
  three other sessions ran their benchmarks on it). Where the time goes, in CPU seconds that the machine's
  load does not change: bench/twin_cpu.py (RESULTS-twin-cpu.md).
""".strip().splitlines()
HEAD = ["load", "rows", "seconds", "M rows/s", "MB/s", "÷ ceiling", "full build (s)"]


def profile(rows: int) -> Profile:
    text = SCHEMA.read_text()
    return Profile(
        Source("files", SCHEMA.name),
        schema_sql=text,
        tables=tuple(Table("public", t, "r", float(rows)) for t in _tables(text)),
    )


def _tables(text: str) -> list[str]:
    found = []
    for raw in pglast.parse_sql("\n".join(line for line in text.splitlines() if not line.startswith("\\"))):
        node = raw.stmt
        if type(node).__name__ == "CreateStmt" and not node.partbound:
            found.append(node.relation.relname)
    return found


def ceiling(server: dbserver.Server, files: dict[str, Path], prof: Profile) -> tuple[float, int]:
    """Seconds and bytes of one stream replaying the twin's rows (binary COPY files) with COPY FREEZE."""
    split = schema.split(prof.schema_sql)
    scratch = f"rehearsal_bench_{secrets.token_hex(4)}"
    dbserver.create(server, scratch, "scratch")
    try:
        with psycopg.connect(server.url(scratch), autocommit=True) as conn:
            for statement in split.session + split.pre:
                conn.execute(statement)
        with psycopg.connect(server.url(scratch)) as conn:
            clock = time.monotonic()
            for table, path in files.items():
                _replay(conn, table, path)
            return time.monotonic() - clock, sum(p.stat().st_size for p in files.values())
    finally:
        dbserver.drop(server, scratch)


def _export(server: dbserver.Server, name: str, tables: list[str], folder: Path) -> dict[str, Path]:
    files = {}
    with psycopg.connect(server.url(name), autocommit=True) as conn:
        for t in tables:
            files[t] = folder / f"{t}.copy"
            with files[t].open("wb") as f, conn.cursor().copy(f'COPY public."{t}" TO STDOUT (FORMAT binary)') as copy:
                for block in copy:
                    f.write(block)
    return files


def _replay(conn: psycopg.Connection, table: str, path: Path) -> None:
    conn.execute(f'TRUNCATE public."{table}"')
    with conn.cursor().copy(f'COPY public."{table}" FROM STDIN (FORMAT binary, FREEZE)') as copy, path.open("rb") as f:
        while block := f.read(1 << 20):
            copy.write(block)
    conn.commit()


def build(prof: Profile, server: dbserver.Server, **how) -> tuple[datagen.Dataset, float]:
    clock = time.monotonic()
    twin = datagen.build_twin(prof, 1.0, server=server, rebuild=True, progress=False, **how)
    return twin, time.monotonic() - clock


def dask_build(prof: Profile, server: dbserver.Server, workers: int) -> tuple[datagen.Dataset, float]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        return build(prof, server, scheduler=cluster.scheduler_address)


def row(what: str, rows: int, nbytes: int, seconds: float, base: float | None, total: float | None) -> list[str]:
    ratio = f"{base / seconds:.2f}" if base else ""
    full = f"{total:.1f}" if total else ""
    return [
        what,
        f"{rows:,}",
        f"{seconds:.2f}",
        f"{rows / seconds / 1e6:.2f}",
        f"{nbytes / seconds / 1e6:.0f}",
        ratio,
        full,
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000, help="rows per table")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-bin")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    server = dbserver.open_server(postgres_bin=args.postgres_bin)
    prof = profile(args.rows)
    load_before = os.getloadavg()[0]
    twin, _ = build(prof, server, workers=args.workers)  # rows for the ceiling's files
    rows = sum(twin.manifest["rows"].values())
    with tempfile.TemporaryDirectory(prefix="twin-ceiling-") as folder:
        files = _export(server, twin.name, [t.name for t in prof.tables], Path(folder))
        ceilings, runs = [ceiling(server, files, prof)], []
        for what, how in _variants(prof, server, args.workers):
            twin, total = how()
            runs.append((what, twin.manifest["phase_seconds"]["load"], total))
            ceilings.append(ceiling(server, files, prof))  # each twin sits between two ceilings
    dbserver.drop(server, twin.name)
    nbytes = ceilings[0][1]
    lines = _table(prof, server, rows, nbytes, [c[0] for c in ceilings], runs, load_before)
    lines += ["", "ceilings, in order (one before each twin run, one after the last): "]
    lines[-1] += ", ".join(f"{c[0]:.2f} s" for c in ceilings) + "; each twin's ÷ ceiling uses the two around it."
    lines += ["", *NOTES]
    print("\n".join(lines))
    if args.output:
        args.output.write_text("\n".join(lines) + "\n")


def _variants(prof: Profile, server: dbserver.Server, workers: int) -> list:
    return [
        (f"twin, {workers} processes, binary COPY", lambda: build(prof, server, workers=workers)),
        ("twin, 1 process, binary COPY", lambda: build(prof, server, workers=1)),
        (f"twin, Dask LocalCluster of {workers} processes", lambda: dask_build(prof, server, workers)),
    ]


def _table(prof, server, rows, nbytes, ceilings, runs, load_before) -> list[str]:
    with server.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    mean = sum(ceilings) / len(ceilings)
    lines = [
        "# Twin generator speed (danbooru's schema)",
        "",
        f"PostgreSQL {version}, {os.cpu_count()} cores, {len(prof.tables)} tables, "
        f"{datetime.now():%Y-%m-%d %H:%M}, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} "
        "after (other work on the machine skews every row alike).",
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + "---|" * len(HEAD),
        "| "
        + " | ".join(row("ceiling: 1 stream COPY FREEZE of binary files (mean)", rows, nbytes, mean, None, None))
        + " |",
    ]
    around = [(a + b) / 2 for a, b in zip(ceilings, ceilings[1:])]
    lines += ["| " + " | ".join(row(w, rows, nbytes, s, c, t)) + " |" for (w, s, t), c in zip(runs, around)]
    return lines


if __name__ == "__main__":
    main()
