"""Where the twin's load time goes (danbooru's schema): the one-stream binary COPY ceiling and the twin's
load (1 and N worker processes), run in turns, each with the CPU seconds of its client processes and of the
server backends that COPY, and what those backends waited on (pg_stat_activity sampled every 20 ms).

    PYTHONPATH=. python bench/twin_cpu.py [--rows 150000] [--repeat 2] [--workers 2]
        [--postgres-bin /usr/lib/postgresql/15/bin] [--output bench/RESULTS-twin-cpu.md]

CPU seconds do not depend on what else the machine runs, wall seconds do: on a 2-core machine a load can
beat the one-stream ceiling only when its CPU seconds, spread over the cores, fit in the ceiling's wall time.
The rows are the same as bench/twin.py's: the ceiling replays the twin's own binary COPY data (generated
here, chunk by chunk), into a scratch database holding the pre-data schema, as TRUNCATE + COPY FREEZE.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import secrets
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]  # bench/datagen.py

import psutil  # noqa: E402
import psycopg  # noqa: E402

import dbserver  # noqa: E402
from bench.twin import profile  # noqa: E402
from datagen import _pgbinary  # noqa: E402
from datagen.twin import assemble, schema  # noqa: E402
from datagen.twin.chunk import binary_chunk  # noqa: E402
from datagen.twin.load import load  # noqa: E402

HEAD = ["load", "wall (s)", "client CPU (s)", "server CPU (s)", "CPU ÷ ceiling's", "backends waiting on client"]
WAITS = "SELECT pid, coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()"


class Backends:
    """Samples the COPYing backends of one database: CPU seconds per backend, and their wait events."""

    def __init__(self, server: dbserver.Server, database: str) -> None:
        self.server, self.database = server, database
        self.cpu: dict[int, float] = {}
        self.waits: collections.Counter = collections.Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Backends:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        with self.server.connect() as conn:
            conn.autocommit = True
            while not self.stop.is_set():
                for pid, wait in conn.execute(WAITS, (self.database,)).fetchall():
                    self.waits[wait] += 1
                    try:
                        times = psutil.Process(pid).cpu_times()
                    except psutil.Error:
                        continue
                    self.cpu[pid] = times.user + times.system
                time.sleep(0.02)


def write_files(plans, folder: Path) -> list[tuple[Path, object]]:
    """Each table's rows as one binary COPY file, made by the twin's own generator."""
    found = []
    for plan in plans:
        path = folder / f"{plan.name}.copy"
        with path.open("wb") as f:
            f.write(_pgbinary.HEADER)
            for chunk in range(plan.chunks):
                f.write(binary_chunk(plan, 42, chunk))
            f.write(_pgbinary.TRAILER)
        found.append((path, plan))
    return found


def replay(url: str, files: list) -> None:
    with psycopg.connect(url) as conn:
        for path, plan in files:
            conn.execute(f"TRUNCATE {plan.quoted}")
            with conn.cursor().copy(plan.copy_sql(True)) as copy, path.open("rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
            conn.commit()


def measure(server, database: str, what: str, run) -> dict:
    """Wall, client CPU (this process and its finished children) and backend CPU of one load."""
    own, kids = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    clock = time.monotonic()
    with Backends(server, database) as backends:
        run()
    wall = time.monotonic() - clock
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = after.ru_utime + after.ru_stime - kids.ru_utime - kids.ru_stime
    samples = max(1, sum(backends.waits.values()))
    return {
        "what": what,
        "wall": wall,
        "client": time.process_time() - own + children,
        "server": sum(backends.cpu.values()),
        "client_read": backends.waits["Client:ClientRead"] / samples,
        "waits": backends.waits,
    }


def runs(server, database: str, plans, files, args) -> list[dict]:
    url, found = server.url(database), []
    for _ in range(args.repeat):
        found.append(
            measure(server, database, "ceiling: 1 stream COPY FREEZE of binary files", lambda: replay(url, files))
        )
        for workers in (args.workers, 1):
            what = f"twin, {workers} process{'es' if workers > 1 else ''}"
            found.append(measure(server, database, what, lambda w=workers: load(url, plans, 42, w, False)))
    return found


def report(found: list[dict], args, tables: int, load_before: float, version: str) -> list[str]:
    ceiling = [r for r in found if r["what"].startswith("ceiling")]
    base = sum(r["client"] + r["server"] for r in ceiling) / len(ceiling)
    lines = [
        "# Where the twin's load time goes (danbooru's schema)",
        "",
        f"PostgreSQL {version}, {os.cpu_count()} cores shared with other engineers' benchmarks (3 other sessions "
        f"ran theirs at the same time), {tables} tables × {args.rows:,} rows, {datetime.now():%Y-%m-%d %H:%M}, load "
        f"average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after.",
        "",
        "| " + " | ".join(HEAD) + " |",
        "|" + "---|" * len(HEAD),
    ]
    for r in found:
        cells = [r["what"], f"{r['wall']:.1f}", f"{r['client']:.1f}", f"{r['server']:.1f}"]
        cells += [f"{(r['client'] + r['server']) / base:.2f}", f"{r['client_read']:.0%}"]
        lines.append("| " + " | ".join(cells) + " |")
    waits = sum((r["waits"] for r in found if r["what"].startswith("twin")), collections.Counter())
    total = max(1, sum(waits.values()))
    lines += ["", "Backends' states while the twin loaded (share of samples): "]
    lines[-1] += ", ".join(f"{k} {v / total:.0%}" for k, v in waits.most_common(6)) + "."
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000, help="rows per table")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-bin")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    server, prof = dbserver.open_server(postgres_bin=args.postgres_bin), profile(args.rows)
    split, database, load_before = (
        schema.split(prof.schema_sql),
        f"rehearsal_bench_{secrets.token_hex(4)}",
        os.getloadavg()[0],
    )
    dbserver.create(server, database, "scratch")
    try:
        with psycopg.connect(server.url(database), autocommit=True) as conn:
            for statement in split.session + split.pre:
                conn.execute(statement)
            plans = assemble.plans(conn, prof, split, 1.0)
            version = conn.execute("SHOW server_version").fetchone()[0]
        with tempfile.TemporaryDirectory(prefix="twin-cpu-") as folder:
            found = runs(server, database, plans, write_files(plans, Path(folder)), args)
    finally:
        dbserver.drop(server, database)
    lines = report(found, args, len(plans), load_before, version)
    print("\n".join(lines))
    if args.output:
        args.output.write_text("\n".join(lines + [""] + NOTES) + "\n")


NOTES = """
- *client CPU*: the ceiling's is the Python process reading its files and sending them; the twin's is its
  worker processes (start-up, generation, binary encoding, sending) and the parent. *server CPU*: the
  backends that COPY (sampled every 20 ms, so a few tens of ms may be missed). *CPU ÷ ceiling's*: client +
  server CPU, over the ceiling runs' mean.
- *backends waiting on client*: share of the samples in which a COPYing backend waited for its client
  (ClientRead): the server had nothing to insert because the generator had not made it yet.
""".strip().splitlines()


if __name__ == "__main__":
    main()
