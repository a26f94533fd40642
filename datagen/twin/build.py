"""A twin template: the profile's schema, rows that follow its statistics, built once and reused."""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import asdict
from datetime import UTC, datetime

from psycopg.types.json import Jsonb

import dbserver
from common.errors import BadInput, NotEnoughDisk
from datagen import extensions, names
from datagen import manifest as base_manifest
from datagen.profile import plans as plan_shapes
from datagen.profile.model import Profile
from datagen.template import Dataset, _checkpoint, _lock
from datagen.twin import assemble, dirt, fidelity, finish, schema, standins
from datagen.twin.load import load
from dbserver import embedded

GENERATOR_VERSION = "twin-3"  # 2: binary COPY, worker processes, generic dirt; 3: value shapes, steps
DISK_MARGIN = 1.3  # heap + TOAST + indexes at the profile's bytes per row, plus the WAL the build writes
META = "CREATE SCHEMA rehearsal_meta; CREATE TABLE rehearsal_meta.manifest (id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), manifest jsonb NOT NULL)"


def twin_name(
    profile: Profile, scale: float, seed: int, dirty: tuple[dirt.Dirt, ...] = (), stood_in: bool = False
) -> str:
    extra = f"|{sorted(repr(d) for d in dirty)}" if dirty else ""  # a clean twin keeps its name
    extra += "|stand-in" if stood_in else ""  # a schema with stand-ins is another twin
    digest = hashlib.sha1(f"{profile.to_json()}|{scale!r}|{seed}|{GENERATOR_VERSION}{extra}".encode()).hexdigest()
    return f"{names.PREFIX}twin_{digest[:16]}"


def build_twin(
    profile: Profile,
    scale: float,
    seed: int = 42,
    server: dbserver.Server | None = None,
    workers: int = 2,
    rebuild: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
    dirty: tuple[dirt.Dirt, ...] = (),
    stand_in_missing: bool = False,
) -> Dataset:
    """The twin template for (profile, scale, seed): reused when complete, else built under a
    `…__building` name and renamed when done. Bad input fails before rows are generated, and leaves
    nothing behind. `workers` processes generate and load; `scheduler` (a Dask scheduler's address)
    runs the same units on a Dask cluster instead. `dirty`: orphans, duplicates and NULLs (datagen.twin.dirt).
    `stand_in_missing`: the extensions the server lacks get stand-ins (datagen.twin.standins)."""
    scale, seed = names.check_scale(scale), names.check_seed(seed)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadInput(f"workers {workers!r} is not a positive integer; give e.g. 2")
    server = server or dbserver.open_server()
    split = _schema(server, profile, stand_in_missing)
    targets = [(d.check(), dirt.resolve(split, d)) for d in dirty]
    name = twin_name(profile, scale, seed, tuple(dirty), bool(split.stand_ins))
    with _lock(server, name):
        found = None if rebuild else twin_info_by_name(server, name)
        if found is not None:
            return Dataset(name, server, found)
        dbserver.drop(server, name)
        _check_disk(server, profile, scale)
        building = names.building_name(name)
        dbserver.drop(server, building)
        dbserver.create(server, building, "building")
        try:
            result = _build(
                server, building, name, profile, split, scale, seed, (workers, scheduler, targets), progress
            )
        except BaseException:
            dbserver.drop(server, building)  # no half-built template, also on Ctrl-C
            raise
        dbserver.rename(server, building, name, "template")
        return Dataset(name, server, result)


def _build(server, building, name, profile, split, scale, seed, parallel, progress) -> dict:
    workers, scheduler, targets = parallel
    clock, seconds = time.monotonic(), {}
    with server.connect(building) as conn:
        finish.run(conn, split.session + split.pre, "pre-data")
        conn.execute(META)
        plans = assemble.plans(conn, profile, split, scale)
        dirt.prepare(conn, split, targets)
    seconds["schema"] = time.monotonic() - clock
    clock = time.monotonic()
    table_seconds = load(server.url(building), plans, seed, workers, progress, scheduler)
    seconds["load"] = time.monotonic() - clock
    clock = time.monotonic()
    with server.connect(building) as conn:
        achieved = dirt.apply(conn, targets, {p.name: p.rows for p in plans})
        finish.run(conn, split.session + split.post, "post-data")
        finish.refresh(conn, split.matviews)
        finish.sequences(conn, plans)
        seconds["constraints_and_indexes"] = time.monotonic() - clock
        # VACUUM first: COPY extends a table many pages at a time (PostgreSQL 16+), and the empty pages left
        # at its end would count in its size until autovacuum cut them (and then skew reltuples).
        conn.execute("VACUUM (ANALYZE)")
        result = _manifest(server, conn, name, profile, plans, scale, seed, workers, seconds, table_seconds)
        result |= {"dirt": [asdict(d) for d, _ in targets], "dirt_achieved": achieved}
        result["stand_ins"] = split.stand_ins
        result["inferred_references"] = [asdict(r) for r in profile.inferred_references or ()]
        result["plans"] = plan_shapes.compare(conn, profile.queries)  # generic plans: twin vs production
        conn.execute("INSERT INTO rehearsal_meta.manifest (manifest) VALUES (%s)", (Jsonb(result),))
    _checkpoint(server)
    return result


def _manifest(server, conn, name, profile, plans, scale, seed, workers, seconds, table_seconds) -> dict:
    return {
        "name": name,
        "kind": "twin",
        "scale": scale,
        "seed": seed,
        "workers": workers,
        "profile": {"source": asdict(profile.source), "created_at": profile.created_at, "holds": asdict(profile.holds)},
        "rows": {p.name: p.rows for p in plans},
        "table_bytes": {p.name: _size(conn, "pg_total_relation_size(%s::regclass)", p.name) for p in plans},
        "database_bytes": _size(conn, "pg_database_size(current_database())"),
        "dirt_achieved": {},
        "fidelity": fidelity.measure(conn, profile, plans),
        "generator_version": GENERATOR_VERSION,
        "versions": base_manifest.versions(server) | {"generator": GENERATOR_VERSION},
        "build_seconds": round(sum(seconds.values()), 1),
        "phase_seconds": {k: round(v, 2) for k, v in seconds.items()},
        "step_seconds": {"tables": {k: round(v, 2) for k, v in table_seconds.items()}},
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _size(conn, expression: str, *args) -> int:
    return int(conn.execute(f"SELECT {expression}", args).fetchone()[0])


def _schema(server: dbserver.Server, profile: Profile, stand_in_missing: bool) -> schema.Split:
    """The profile's schema split; with stand-ins for missing extensions when asked, else refused."""
    split = schema.split(profile.schema_sql)
    missing = _missing_extensions(server, split)
    if not missing:
        return split
    if not stand_in_missing:
        raise BadInput(extensions.missing_message(missing, server.display) + ", or give --stand-in-missing")
    text, done = standins.stand_in(profile.schema_sql, missing)
    result = schema.split(text)
    result.stand_ins = [s.to_dict() for s in done]
    return result


def _missing_extensions(server: dbserver.Server, split: schema.Split) -> list[str]:
    if not split.extensions:
        return []
    with server.connect() as conn:
        available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions").fetchall()}
    return [e for e in split.extensions if e not in available]


def _check_disk(server: dbserver.Server, profile: Profile, scale: float) -> None:
    if not server.embedded:
        return
    need = DISK_MARGIN * scale * sum(t.heap_bytes + t.toast_bytes + t.index_bytes for t in profile.tables)
    free = shutil.disk_usage(embedded.pgdata()).free
    if need > free:
        raise NotEnoughDisk(
            f"the twin at scale {scale:g} needs about {need / 1e9:.1f} GB of disk but {free / 1e9:.1f} GB "
            "are free; free some space or choose a smaller --scale"
        )


def twin_info_by_name(server: dbserver.Server, name: str) -> dict | None:
    if dbserver.ownership(server, name) != "template":
        return None
    found = base_manifest.read(server, name)
    return found if found and found.get("generator_version") == GENERATOR_VERSION else None


def twin_info(
    profile: Profile,
    scale: float,
    seed: int = 42,
    server: dbserver.Server | None = None,
    dirty: tuple = (),
    stand_in_missing: bool = False,
) -> dict | None:
    """The manifest (with fidelity) of the twin for (profile, scale, seed, dirt), or None when not built."""
    server = server or dbserver.open_server()
    stood_in = bool(_schema(server, profile, stand_in_missing).stand_ins)
    name = twin_name(profile, names.check_scale(scale), names.check_seed(seed), tuple(dirty), stood_in)
    return twin_info_by_name(server, name)
