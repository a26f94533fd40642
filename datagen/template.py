"""Template databases: build once under a temporary name, rename when complete, reuse afterwards."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

import dbserver
from datagen import disk, finish, load, manifest, names, tables
from datagen.dirt import Dirt
from datagen.world import World

SCHEMA = Path(__file__).resolve().parent / "schema_tables.sql"


@dataclass(frozen=True)
class Dataset:
    """A finished template: clone it (dbserver.clone) for every rehearsal, never write to it."""

    name: str
    server: dbserver.Server
    manifest: dict


def build(
    scale: float,
    seed: int = 42,
    dirt: Dirt | None = None,
    server: dbserver.Server | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> Dataset:
    """The template for (scale, seed, dirt): reused when a complete one exists, else built."""
    scale, seed, dirt = names.check_scale(scale), names.check_seed(seed), names.check_dirt(dirt)
    server = server or dbserver.open_server()
    name = names.template_name(scale, seed, dirt)
    with _lock(server, name):  # a second builder of the same template waits, then reuses it
        found = None if rebuild else _complete(server, name)
        if found is not None:
            return Dataset(name, server, found)
        dbserver.drop(server, name)  # stale or rebuilt: its disk is needed for the new one
        disk.check(server, World(scale=scale, seed=seed, dirt=dirt))  # at once: counting items takes long at SF 100
        return Dataset(name, server, _build(server, name, tables.world(scale, seed, dirt), progress))


def _build(server: dbserver.Server, name: str, world, progress: bool) -> dict:
    building = names.building_name(name)
    dbserver.drop(server, building)  # left by a killed build (SIGKILL, the server lost): never reused
    disk.check(server, world)
    dbserver.create(server, building, "building")
    try:
        return _fill(server, name, building, world, progress)
    except BaseException:  # Ctrl-C, SIGTERM, a failed load: a half-built database is never kept
        with contextlib.suppress(psycopg.OperationalError):  # server gone: `rehearse clean` drops it later
            dbserver.drop(server, building)
        raise


def _fill(server: dbserver.Server, name: str, building: str, world, progress: bool) -> dict:
    """Schema, rows, foreign keys and dirt, manifest; then the rename that makes the template usable."""
    clock = time.monotonic()
    with server.connect(building) as conn:
        conn.execute(SCHEMA.read_text())
    loaded = load.load(server, building, world, progress)
    seconds = {"load_and_index": time.monotonic() - clock}
    clock = time.monotonic()
    achieved, jobs = finish.foreign_keys_and_dirt(lambda: server.connect(building))
    seconds["foreign_keys_and_dirt"] = time.monotonic() - clock
    timings = {"tables": {t: s for t, (_, s) in loaded.items()}, "finish": jobs}
    with server.connect(building) as conn:
        result = manifest.make(
            name, world, server, conn, {t: r for t, (r, _) in loaded.items()}, achieved, seconds, timings
        )
        manifest.write(conn, result)
    _checkpoint(server)
    dbserver.rename(server, building, name, "template")
    return result


def _checkpoint(server: dbserver.Server) -> None:
    """Write the build's dirty buffers now: CREATE DATABASE … STRATEGY FILE_COPY checkpoints before it
    copies, and the first clone should not pay for the build."""
    try:
        with server.connect() as conn:
            conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        pass  # a remote server may not grant pg_checkpoint; the first clone then does it


def _complete(server: dbserver.Server, name: str) -> dict | None:
    """The manifest of a finished template of the current generator version, else None."""
    if dbserver.ownership(server, name) != "template":
        return None
    found = manifest.read(server, name)
    if not found or found.get("generator_version") != manifest.GENERATOR_VERSION:
        return None
    return found


@contextlib.contextmanager
def _lock(server: dbserver.Server, name: str) -> Iterator[None]:
    key = int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)
    with server.connect() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def info(scale: float, seed: int = 42, dirt: Dirt | None = None, server: dbserver.Server | None = None) -> dict | None:
    """The manifest of the template for (scale, seed, dirt), or None when it has not been built."""
    scale, seed, dirt = names.check_scale(scale), names.check_seed(seed), names.check_dirt(dirt)
    server = server or dbserver.open_server()
    return _complete(server, names.template_name(scale, seed, dirt))


def list_templates(server: dbserver.Server | None = None) -> list[dict]:
    """The manifests of every finished template on the server, by name."""
    server = server or dbserver.open_server()
    owned = dbserver.list_owned(server, names.PREFIX)
    found = [manifest.read(server, n) for n, kind in owned.items() if kind == "template"]
    return [m for m in found if m]
