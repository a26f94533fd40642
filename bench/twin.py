"""Acceptance: a twin of danbooru's published schema (row counts only, no statistics), build time against
the one-stream binary COPY ceiling of the same tables, measured in the same run.

    PYTHONPATH=. python bench/twin.py [--rows 20000] [--workers 2] [--postgres-bin /usr/lib/postgresql/15/bin]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import psycopg  # noqa: E402

import datagen  # noqa: E402
import dbserver  # noqa: E402
from datagen.profile.model import Profile, Source, Table  # noqa: E402
from datagen.twin import schema  # noqa: E402

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "danbooru.structure.sql"


def profile(rows: int) -> Profile:
    text = SCHEMA.read_text()
    tables = [t for t in _tables(text)]
    return Profile(
        Source("files", SCHEMA.name),
        schema_sql=text,
        tables=tuple(Table("public", t, "r", float(rows)) for t in tables),
    )


def _tables(text: str) -> list[str]:
    import pglast

    found = []
    for raw in pglast.parse_sql("\n".join(line for line in text.splitlines() if not line.startswith("\\"))):
        node = raw.stmt
        if type(node).__name__ == "CreateStmt" and not node.partbound:
            found.append(node.relation.relname)
    return found


def ceiling(server: dbserver.Server, name: str, tables: list[str]) -> float:
    """Seconds to COPY every table's rows out and back in, binary, one stream, into an empty twin clone."""
    with dbserver.clone(server, name) as scratch, psycopg.connect(server.url(scratch), autocommit=True) as conn:
        data = {}
        for t in tables:
            with conn.cursor().copy(f'COPY public."{t}" TO STDOUT (FORMAT binary)') as copy:
                data[t] = b"".join(bytes(b) for b in copy)
            conn.execute("SET session_replication_role = replica")
            conn.execute(f'CREATE TEMP TABLE "x_{t}" (LIKE public."{t}")')
        clock = time.monotonic()
        for t in tables:
            with conn.cursor().copy(f'COPY "x_{t}" FROM STDIN (FORMAT binary)') as copy:
                copy.write(data[t])
        return time.monotonic() - clock


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-bin")
    args = parser.parse_args()
    server = dbserver.open_server(postgres_bin=args.postgres_bin)
    prof = profile(args.rows)
    print(f"{len(prof.tables)} tables, extensions: {', '.join(schema.split(prof.schema_sql).extensions)}")
    clock = time.monotonic()
    twin = datagen.build_twin(prof, 1.0, server=server, workers=args.workers, rebuild=True)
    total = time.monotonic() - clock
    load = twin.manifest["phase_seconds"]["load"]
    copy = ceiling(server, twin.name, [t.name for t in prof.tables])
    rows = sum(twin.manifest["rows"].values())
    print(f"{rows:,} rows: build {total:.1f} s (load {load:.1f} s), one-stream binary COPY {copy:.1f} s")
    print(f"load vs ceiling: {copy / load:.2f}x (≥ 1.0 is the target)")
    dbserver.drop(server, twin.name)


if __name__ == "__main__":
    main()
