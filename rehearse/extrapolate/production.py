"""Production row counts to project to: given (`--production-rows`), read from a real server's catalogue
through a read-only session (`--production-dsn`), the profile's row counts (`--profile`), or SF 1's; tables given neither way fall back to SF 1, and
say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import dbserver
from common.errors import BadInput

ROWS_FORMAT = "TABLE=ROWS[,TABLE=ROWS…], e.g. orders=250000000,order_items=600000000"


def parse_production_rows(text: str) -> dict[str, int]:
    """'orders=250000000,order_items=6e8' → {'public.orders': 250000000, …}."""
    rows = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            count = float(value.replace("_", "").strip())
        except ValueError:
            count = float("nan")
        if not sep or not name.strip() or not np.isfinite(count) or count < 1 or count != int(count):
            raise BadInput(f"--production-rows {text!r}: expected {ROWS_FORMAT}")
        rows[qualified(name.strip())] = int(count)
    return rows


def qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


@dataclass(frozen=True)
class Production:
    """Row counts to project to, per table, and where each came from."""

    rows: dict[str, int]
    source: dict[str, str]  # table → 'given' | 'catalogue' | 'size estimate' | 'SF 1'
    origin: str  # '--production-rows', the masked URL, or 'SF 1'
    unknown: tuple[str, ...] = ()  # dataset tables the production server does not have
    shared_buffers: int | None = None  # bytes: production's when read from it, else the rehearsal server's
    maintenance_work_mem: int | None = None  # bytes, read as shared_buffers is: what an index build sorts in

    def to_dict(self) -> dict:
        return dict(
            origin=self.origin,
            rows=self.rows,
            source=self.source,
            unknown=list(self.unknown),
            shared_buffers=self.shared_buffers,
            maintenance_work_mem=self.maintenance_work_mem,
        )


def profile_rows(path: str) -> dict[str, int]:
    """Production row counts from a profile (`rehearse profile`): its tables' reltuples, where known."""
    from datagen.profile import model

    return {t.qualified: int(t.reltuples) for t in model.load(path).tables if t.reltuples >= 1}


def rows_and_origin(config: dict, rows: dict | None, production_dsn) -> tuple[dict | None, str]:
    """A twin projects to its profile's row counts unless told otherwise; a copy is production size."""
    if config.get("from_database"):
        raise BadInput("--scales needs a baseline that scales: a copy of your database (--from-database) has one size")
    if rows or production_dsn or not config.get("profile"):
        return rows, "--production-rows" if rows else "SF 1"
    return profile_rows(config["profile"]), f"profile {config['profile']}"


def dataset_tables(config: dict) -> list[str]:
    """The tables whose rows --production-dsn reads: the profile's, or the order service's."""
    if config.get("profile"):
        return list(profile_rows(config["profile"]))
    from datagen.tables import TABLES

    return [f"public.{t.name}" for t in TABLES]


def connect_read_only(url: str):
    """A connection whose every transaction is READ ONLY: the server itself refuses any write."""
    import psycopg

    return psycopg.connect(url, autocommit=True, options="-c default_transaction_read_only=on")


def read_catalogue(url: str, tables) -> dict[str, tuple[float, int]]:
    """{table: (pg_class.reltuples, pg_total_relation_size)} for the tables the server has."""
    import psycopg

    query = (
        "SELECT n.nspname || '.' || c.relname, c.reltuples, pg_total_relation_size(c.oid) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY(%s)"
    )
    try:
        with connect_read_only(url) as conn:
            return {name: (float(tuples), int(size)) for name, tuples, size in conn.execute(query, (list(tables),))}
    except psycopg.OperationalError as exc:
        raise BadInput(
            f"--production-dsn {dbserver.mask(url)}: cannot connect ({' '.join(str(exc).split())}); check the URL"
        ) from None


def shared_buffers(url: str) -> int:
    """The server's shared_buffers in bytes (read-only session)."""
    return setting_bytes(url, "shared_buffers")


def setting_bytes(url: str, name: str) -> int:
    """A memory setting of the server (shared_buffers, maintenance_work_mem) in bytes (read-only session)."""
    with connect_read_only(url) as conn:
        return int(conn.execute("SELECT pg_size_bytes(current_setting(%s))", (name,)).fetchone()[0])


def resolve_production(
    largest,
    rows: dict | None = None,
    catalogue: dict | None = None,
    origin: str = "SF 1",
    buffers: int | None = None,
    sort_memory: int | None = None,
) -> Production:
    """Rows per dataset table: given, else from the catalogue, else SF 1 (rehearsed rows ÷ scale)."""
    manifest = largest.manifest.dataset_manifest
    sf1 = {qualified(t): round(n / largest.manifest.scale) for t, n in manifest["rows"].items()}
    missing = tuple(sorted(set(sf1) - set(catalogue))) if catalogue is not None else ()
    rows, catalogue = rows or {}, catalogue or {}
    unknown = sorted(set(rows) - set(sf1))
    if unknown:
        raise BadInput(
            f"--production-rows names {', '.join(unknown)}, not a dataset table; known: {', '.join(sorted(sf1))}"
        )
    out, source = {}, {}
    for table, count in sf1.items():
        out[table], source[table] = count, "SF 1"
        if table in rows:
            out[table], source[table] = rows[table], "given"
        elif table in catalogue:
            out[table], source[table] = _from_catalogue(*catalogue[table], manifest, table)
    return Production(out, source, origin, missing, buffers, sort_memory)


def _from_catalogue(reltuples: float, size: int, manifest: dict, table: str) -> tuple[int, str]:
    if reltuples >= 0:
        return int(reltuples), "catalogue"
    # reltuples = -1: never vacuumed or analysed (PostgreSQL 14+); bytes per row as in the rehearsal instead
    key = table if table in manifest["rows"] else table.split(".", 1)[1]  # a twin's names are qualified
    per_row = manifest["table_bytes"][key] / max(manifest["rows"][key], 1)
    return int(size / per_row), "size estimate"


def cache_warning(table: str, rehearsed: float | None, projected: float | None, buffers: int | None) -> str | None:
    """Why statements writing every row of `table` will take longer than projected, or None."""
    from rehearse.extrapolate.cache import CLIFF_FACTOR, crosses

    if not crosses(rehearsed, projected, buffers):
        return None
    # see cache.py: past shared_buffers/4 the per-row cost of a full-table write steps up
    return (
        f"{table} outgrows the buffer cache: {_size(rehearsed)} rehearsed, ~{_size(projected)} in production, "
        f"past shared_buffers/4 ({_size(buffers / 4)}); statements writing every row may take up to "
        f"×{CLIFF_FACTOR:.1f} longer than projected (the interval's high end includes it): rehearse past that size"
    )


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"
