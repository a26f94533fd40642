"""How planning scales with the size of a migration file: seconds and peak memory from 1 MB to 50 MB.

Each size is a file of INSERTs and UPDATEs (strings with `;` in them, dollar quotes, a comment now and
then), planned by `rehearse.sql.migration.plan` in a fresh process (so its peak RSS is its own). The
baseline is `pglast.split` alone on the same file in the same run: PostgreSQL's parser finding the
statement bounds, the least any correct splitter does. Linear parsing keeps both the seconds per MB and
the ratio flat as the size grows.

    .venv/bin/python bench/parse_size.py [--sizes 1,5,20,50] [--save]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys, time
path, what = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if what == "plan":
    from rehearse.sql.migration import plan
    count = len(plan(path, max_mb=1000).migration.statements)
else:
    import pglast
    count = len(pglast.split(open(path, encoding="utf-8").read(), with_parser=True, only_slices=True))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "statements": count,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_migration(path: Path, megabytes: float) -> int:
    """INSERTs and UPDATEs until the file holds `megabytes` MB; the number of statements."""
    target, written, n = megabytes * 1e6, 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            if n % 2:
                line = f"INSERT INTO orders (id, customer_id, note) VALUES ({n}, {n % 977}, 'row {n}; paid');\n"
            else:
                line = f"UPDATE orders SET order_status = 'shipped', note = $$x{n}$$ WHERE id = {n};\n"
            if n % 1000 == 0:
                line = f"-- batch {n // 1000}\n" + line
            written += out.write(line)
            n += 1
    return n


def measure(path: Path, what: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{what} failed on {path}: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout)


def table(rows: list[dict]) -> str:
    head = (
        "| file MB | statements | plan s | plan s/MB | plan peak RSS MB | baseline s | baseline peak RSS MB "
        "| plan ÷ baseline |"
    )
    lines = [head, "|" + " --- |" * 8]
    for r in rows:
        lines.append(
            f"| {r['mb']:.0f} | {r['statements']:,} | {r['plan']['seconds']:.1f} | "
            f"{r['plan']['seconds'] / r['mb']:.2f} | {r['plan']['peak_mb']:.0f} | {r['split']['seconds']:.2f} | "
            f"{r['split']['peak_mb']:.0f} | {r['plan']['seconds'] / r['split']['seconds']:.0f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20,50", help="file sizes in MB")
    parser.add_argument("--save", action="store_true", help="write bench/RESULTS-parse.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for mb in (float(s) for s in args.sizes.split(",")):
            path = Path(folder) / f"migration_{mb:g}mb.sql"
            count = write_migration(path, mb)
            rows.append(
                dict(
                    mb=path.stat().st_size / 1e6,
                    statements=count,
                    plan=measure(path, "plan"),
                    split=measure(path, "split"),
                )
            )
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = table(rows)
    print(text)
    if args.save:
        where = f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        (ROOT / "bench" / "RESULTS-parse.md").write_text(
            f"# Planning time and memory by migration size\n\n{__doc__.split(chr(10) + chr(10))[1]}\n\n"
            f"Measured on {where}, while other work shared the machine.\n\n{text}\n"
        )


if __name__ == "__main__":
    main()
