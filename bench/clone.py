"""A fresh baseline: where a clone's time goes, and the wait a user sees, cold and with a warm spare.

    .venv/bin/python bench/clone.py [--scales 0.1,1] [--repeats 3] [--note "run conditions"]
        [--output bench/RESULTS-clone.md]

Against the old path measured in the same run (CREATE DATABASE … STRATEGY FILE_COPY, no checkpoint before,
file_copy_method = copy), as a ratio:
  - a CHECKPOINT just before, timed apart (what FILE_COPY's own first checkpoint would flush);
  - the copy alone: the same with fsync = off (ALTER SYSTEM on the benchmark's own embedded server, restored
    after); the fsync is the difference;
  - file_copy_method = clone (PostgreSQL 18: copy_file_range, a reflink where the filesystem can);
  - STRATEGY WAL_LOG (block by block through shared buffers and the WAL), at the smallest scale only;
  - the wait a rehearsal sees (dbserver.warm.quiet + warm.clone): cold, and with a warm spare made before.
Templates are the ordinary ones (seed 42), reused; every copy is dropped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import datagen  # noqa: E402
import dbserver  # noqa: E402
from dbserver import warm, warm_make  # noqa: E402

NAME = "rehearsal_run_bench_clone"


class Skipped(Exception):
    """A row that could not be measured (e.g. the disk rule refused the spare): reported, not hidden."""


def timed(action) -> float:
    clock = time.perf_counter()
    action()
    return time.perf_counter() - clock


def create(server, template: str, strategy: str = "FILE_COPY", method: str = "copy", checkpoint: bool = False):
    """(checkpoint seconds, CREATE DATABASE seconds) of one copy, dropped after."""
    with server.connect() as conn:
        conn.execute(f"SET file_copy_method = {method}")
        before = timed(lambda: conn.execute("CHECKPOINT")) if checkpoint else 0.0
        took = timed(lambda: conn.execute(f'CREATE DATABASE {NAME} TEMPLATE "{template}" STRATEGY {strategy}'))
        conn.execute(f"COMMENT ON DATABASE {NAME} IS '{dbserver.databases.mark_text('scratch')}'")
    dbserver.drop(server, NAME)
    return before, took


def fsync(server, on: bool) -> None:
    with server.connect() as conn:
        conn.execute(f"ALTER SYSTEM SET fsync = {'on' if on else 'off'}")
        conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)


def rehearsal_wait(server, template: str, spare: bool) -> float:
    """What a rehearsal waits for its copy (no hand-over to roles): quiet, then take or clone."""
    if spare:
        said = warm_make.make(server, template)
        print("  ", said, flush=True)
        if not said.endswith(("made", "ready")):
            raise Skipped(said)
    clock = time.perf_counter()
    # cold: never a spare, even one a rehearsal left behind (the extrapolation benchmark's, say)
    with warm.quiet(server, template), warm.clone(server, template, NAME, warm=spare) as (_, taken):
        waited = time.perf_counter() - clock
        assert taken is spare, (taken, spare)
    return waited


def measure(server, template: str, repeats: int, smallest: bool) -> list[tuple[str, float, float]]:
    """(what, median seconds, median checkpoint seconds) per variant."""
    variants = {
        "FILE_COPY, copy (the old path)": lambda: create(server, template),
        "CHECKPOINT just before, then FILE_COPY, copy": lambda: create(server, template, checkpoint=True),
        "the same, fsync = off (copy and checkpoints without fsync)": lambda: _no_fsync(server, template),
        "CHECKPOINT, then FILE_COPY, file_copy_method = clone": lambda: create(
            server, template, method="clone", checkpoint=True
        ),
        "a rehearsal's wait, cold (quiet + clone)": lambda: (0.0, rehearsal_wait(server, template, False)),
        "a rehearsal's wait, warm spare ready (quiet + rename)": lambda: (0.0, rehearsal_wait(server, template, True)),
    }
    if smallest:
        variants["WAL_LOG"] = lambda: create(server, template, strategy="WAL_LOG", checkpoint=True)
    rows = []
    for what, action in variants.items():
        try:
            runs = [action() for _ in range(repeats)]
        except Skipped as exc:
            rows.append((f"{what}: not measured, {exc}", float("nan"), float("nan")))
            continue
        rows.append((what, statistics.median(r[1] for r in runs), statistics.median(r[0] for r in runs)))
        print(f"  {what}: {rows[-1][1]:.2f} s (checkpoint {rows[-1][2]:.2f} s)", flush=True)
    return rows


def _no_fsync(server, template: str):
    fsync(server, False)
    try:
        return create(server, template, checkpoint=True)
    finally:
        fsync(server, True)


def size_of(server, template: str) -> int:
    with server.connect() as conn:
        return conn.execute("SELECT pg_database_size(%s)", (template,)).fetchone()[0]


def table(results: dict) -> list[str]:
    lines = [
        "| SF | size | runs | measurement | checkpoint s | copy s | wait s | MB/s | ÷ old path |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scale, (size, repeats, rows) in results.items():
        base = rows[0][1]
        for what, took, ckpt in rows:
            wait = took + ckpt
            rate = "" if "warm" in what or took != took else f"{size / took / 1e6:.0f}"
            lines.append(
                f"| {scale:g} | {size / 1e9:.2f} GB | {repeats} | {what} | {ckpt:.2f} | {took:.2f} | {wait:.2f} | "
                f"{rate} | {wait / base:.2f} |"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--note", default="", help="a sentence on the run's conditions, written in the header")
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "RESULTS-clone.md"))
    args = parser.parse_args()
    server = dbserver.open_server()
    if not server.embedded:
        sys.exit("FAILED: the benchmark turns fsync off for a moment: run it on the embedded server")
    load_before, results = os.getloadavg()[0], {}
    scales = [float(s) for s in args.scales.split(",")]
    for scale in scales:
        template = datagen.build(scale, server=server, progress=False).name
        size = size_of(server, template)
        if shutil.disk_usage(warm_make.data_directory(server)).free < 3 * size:
            print(f"SF {scale:g}: skipped, the disk cannot hold two more copies", flush=True)
            continue
        print(f"SF {scale:g}: {template}, {size / 1e9:.2f} GB", flush=True)
        repeats = args.repeats if scale == min(scales) else 1  # a larger scale once: minutes, not tens of them
        results[scale] = (size, repeats, measure(server, template, repeats, scale == min(scales)))
    write(args.output, server, results, load_before, os.getloadavg()[0], args.note)
    return 0


def write(path: str, server, results: dict, load_before: float, load_after: float, note: str = "") -> None:
    fs = _filesystem(warm_make.data_directory(server))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    text = [
        "# Clone benchmark: a fresh baseline, cold and warm",
        "",
        f"PostgreSQL {server.version}, a shared 2-core machine (other engineers' work ran beside it"
        f"{note and '; ' + note}), data "
        f"directory on {fs}, {when} UTC, load average {load_before:.1f} before and {load_after:.1f} after; "
        "each row the median of its runs. Written by `bench/clone.py`.",
        "",
        *table(results),
        "",
    ]
    Path(path).write_text("\n".join(text) + NOTES)
    print("\n".join(text))


def _filesystem(path: Path) -> str:
    best = ("?", "")
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, kind, *_ = line.split()
        if str(path).startswith(mount) and len(mount) > len(best[1]):
            best = (kind, mount)
    return best[0]


NOTES = """
- *checkpoint s*: an explicit `CHECKPOINT` issued just before the copy, timed apart. FILE_COPY checkpoints
  before it copies and again after; a checkpoint just before leaves the first one nothing to flush.
- *copy s*: the `CREATE DATABASE` itself (its checkpoints, the file copy, the fsync of every file); *wait s*
  is checkpoint + copy, what the user waits; *÷ old path* compares it with the first row of its scale.
- *fsync*: the row with `fsync = off` minus the row above it.
- *clone*: `file_copy_method = clone` (PostgreSQL 18) makes the kernel copy (`copy_file_range`): a reflink on
  XFS or Btrfs, an in-kernel copy on ext4 (no reflink there). The tool uses it on 18 and falls back to `copy`
  when the server refuses it.
- *a rehearsal's wait*: `dbserver.warm.quiet` + `warm.clone`, as `rehearse run` gets its copy, without the
  hand-over to the least-privilege roles (the same in both). *Warm*: a spare made beforehand (what the
  background maker does while the user reads the report), taken by `ALTER DATABASE … RENAME`.
- The template's files are in the page cache (the machine has 24 GB of memory): reads are cheap, writes and
  their fsync are what is measured.
"""


if __name__ == "__main__":
    sys.exit(main())
