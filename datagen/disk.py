"""The disk a build needs, checked before it starts (a full disk mid-build stalls the whole server)."""

from __future__ import annotations

import shutil

import dbserver
from common.errors import NotEnoughDisk
from datagen import tables
from datagen.world import World
from dbserver import embedded

MARGIN = 1.15  # the per-row figures are averages; leave room for what they miss


def needed_bytes(world: World) -> int:
    """Heap + indexes + WAL written while building, from bytes per row measured at SF 0.1."""
    return int(MARGIN * sum(tables.expected_rows(t, world) * t.disk_bytes_per_row for t in tables.TABLES))


def check(server: dbserver.Server, world: World) -> None:
    """Refuse to start a build the data directory's filesystem cannot hold (only for the embedded
    server: a remote server's disk is not visible from here)."""
    if not server.embedded:
        return
    path = embedded.pgdata()
    need, free = needed_bytes(world), shutil.disk_usage(path).free
    if need > free:
        raise NotEnoughDisk(
            f"scale {world.scale:g} needs about {_gb(need)} of disk but {path} has "
            f"{_gb(free)} free; free some space or choose a smaller scale"
        )


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"
