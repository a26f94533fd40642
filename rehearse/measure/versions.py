"""One statement on several PostgreSQL versions: the strongest lock it takes, whether it rewrites, whether
it fails — what an upgrade (or a production server older than the embedded 18) changes for a migration."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

import dbserver
from rehearse.measure.executor import MigrationExecutor
from rehearse.sql import locks as lockmodes
from rehearse.sql.migration import Migration, split

# A real difference, from the PostgreSQL 18 release notes ("Add support for virtual generated columns …
# the default for generated columns"): with no STORED/VIRTUAL keyword this adds a VIRTUAL column on 18 —
# an ACCESS EXCLUSIVE lock held for a catalogue change, no rewrite — while 15 (up to 17) refuses it, and the
# STORED form that 15 accepts rewrites the whole table on every version.
GENERATED_COLUMN = "ALTER TABLE orders ADD COLUMN total_with_vat numeric GENERATED ALWAYS AS (total_amount * 1.2)"
GENERATED_COLUMN_STORED = GENERATED_COLUMN + " STORED"
PG15_BIN = "/usr/lib/postgresql/15/bin"  # Debian's postgresql-15 (`make postgres15`)

_SCHEMA = Path(__file__).resolve().parents[2] / "datagen"
# A few hundred rows, enough for every table to have a file that a rewrite replaces.
SAMPLE_ROWS = """
INSERT INTO customers (email, full_name, street, city, country, created_at)
  SELECT 'c' || g || '@example.com', 'Customer ' || g, g || ' Main St', 'Springfield', 'US', now()
    FROM generate_series(1, 100) g;
INSERT INTO products (sku, name, category, price, created_at)
  SELECT 'SKU-' || g, 'Product ' || g, 'misc', 1 + g % 97, now() FROM generate_series(1, 20) g;
INSERT INTO orders (customer_id, order_status, transaction_id, total_amount, currency, created_at, updated_at)
  SELECT 1 + g % 100, 'delivered', (100000000000 + g)::text, 10 + g % 90, 'EUR', now(), now()
    FROM generate_series(1, 500) g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
  SELECT 1 + g % 500, 1 + g % 20, 1, 5 FROM generate_series(1, 1000) g;
ANALYZE;
"""
COLUMNS = [
    "version",
    "server",
    "index",
    "sql",
    "status",
    "strongest_lock",
    "locks",
    "rewrote",
    "rewritten",
    "scanned",
    "sqlstate",
    "error",
]


def compare_versions(sql: str, bins: Sequence[str | None] = (None, PG15_BIN), setup: str | None = None) -> pd.DataFrame:
    """Run `sql` (one or more statements, as a migration file) on each server and say what it did there.

    `bins`: PostgreSQL bin directories (None = the embedded server); each is started if needed. `setup`: SQL
    run first on a fresh database of each server (default: the order-service schema with a few hundred rows).
    One row per version and statement: version, strongest_lock, locks ('relation: mode'), rewrote,
    rewritten, scanned, status (ok / failed / skipped), sqlstate, error.
    """
    migration = Migration("compare_versions", tuple(split(sql, "<compare_versions>")), None, ())
    frames = [_on(dbserver.open_server(postgres_bin=bin_dir), migration, setup) for bin_dir in bins]
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def _on(server: dbserver.Server, migration: Migration, setup: str | None) -> pd.DataFrame:
    name = f"rehearsal_versions_{secrets.token_hex(4)}"
    dbserver.create(server, name, "scratch")
    try:
        with server.connect(name) as conn:
            conn.execute(setup if setup is not None else sample_database_sql())
        executor = MigrationExecutor(server, name)
        try:
            records = executor.run(migration)
        finally:
            executor.close()
    finally:
        dbserver.drop(server, name)
    return pd.DataFrame([_row(server, r) for r in records])


def _row(server: dbserver.Server, record) -> dict:
    modes = [lock["mode"] for lock in record.locks]
    return dict(
        version=server.version.split()[0],
        server=server.display,
        index=record.index,
        sql=record.sql,
        status=record.status,
        strongest_lock=lockmodes.strongest(modes),
        locks=sorted(f"{lock['relation']}: {lock['mode']}" for lock in record.locks),
        rewrote=bool(record.rewritten),
        rewritten=list(record.rewritten),
        scanned=list(record.scanned),
        sqlstate=record.sqlstate,
        error=record.error,
    )


def sample_database_sql() -> str:
    """The order-service schema (datagen's tables, keys and indexes) with a few hundred rows."""
    return "".join((_SCHEMA / f).read_text() for f in ("schema_tables.sql", "schema_constraints.sql")) + SAMPLE_ROWS
