"""The manifest: what a template holds and how it was made, stored as jsonb inside the template."""

from __future__ import annotations

import platform
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Jsonb

import dbserver
from datagen import tables
from datagen.world import World

# Bump whenever the rows a (scale, seed, dirt) produces change: templates built by another version are
# rebuilt, never reused.
GENERATOR_VERSION = "1"


def versions(server: dbserver.Server) -> dict[str, str]:
    import faker
    import numpy

    return {
        "generator": GENERATOR_VERSION,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "faker": faker.VERSION,
        "psycopg": psycopg.__version__,
        "postgresql": server.version,
    }


def make(
    name: str,
    world: World,
    server: dbserver.Server,
    conn: psycopg.Connection,
    rows: dict[str, int],
    achieved: dict[str, int],
    seconds: dict[str, float],
    timings: dict,
) -> dict:
    cal = world.params.calendar
    return {
        "name": name,
        "scale": world.scale,
        "seed": world.seed,
        "dirt": world.dirt.as_dict(),
        "dirt_expected": _expected_dirt(world),
        "dirt_achieved": achieved,
        "rows": {t.name: rows[t.name] for t in tables.TABLES},
        "table_bytes": {t.name: _size(conn, "pg_total_relation_size(%s::regclass)", t.name) for t in tables.TABLES},
        "database_bytes": _size(conn, "pg_database_size(current_database())"),
        "history": {"start": cal.start.isoformat(), "end": cal.end.isoformat()},
        "generator_version": GENERATOR_VERSION,
        "versions": versions(server),
        "build_seconds": round(sum(seconds.values()), 1),
        "phase_seconds": _rounded(seconds),
        "step_seconds": {
            "tables": {t: _rounded(s) for t, s in timings["tables"].items()},
            "finish": _rounded(timings["finish"]),
        },
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in seconds.items()}


def _expected_dirt(world: World) -> dict[str, int]:
    rows = {
        "orphan_items": world.n_items,
        "duplicate_emails": world.n_customers,
        "null_currency": world.n_orders,
        "bad_transaction_ids": world.n_orders,
    }
    return {kind: world.dirt.count(kind, n) for kind, n in rows.items()}


def _size(conn: psycopg.Connection, expression: str, *args) -> int:
    return int(conn.execute(f"SELECT {expression}", args).fetchone()[0])


def write(conn: psycopg.Connection, manifest: dict) -> None:
    conn.execute("INSERT INTO rehearsal_meta.manifest (manifest) VALUES (%s)", (Jsonb(manifest),))


def read(server: dbserver.Server, dbname: str) -> dict | None:
    """The manifest of a database, or None when it has none (not a finished template)."""
    try:
        with server.connect(dbname) as conn:
            row = conn.execute("SELECT manifest FROM rehearsal_meta.manifest").fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return row[0] if row else None
