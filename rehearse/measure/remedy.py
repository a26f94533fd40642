"""Remedies rehearsed: each rewritten migration (rehearse.sql.remedy_file) under the release's own traffic and
options, on a fresh copy of the same template to which the release's earlier migrations were applied first,
quietly (no traffic, nothing measured) — so it starts from the schema the original met. One saved run each.

Also the facts a batched UPDATE is written from: a table's single-column integer key and its rows, read from
the template (the rehearsed scale), before any file is written.
"""

from __future__ import annotations

import dataclasses

from psycopg import sql

import dbserver
from common.errors import RehearsalError
from dbserver.lost import one_line_if_lost
from rehearse.measure import baseline, confine, runner
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.executor import MigrationExecutor
from rehearse.measure.result import RehearsalResult
from rehearse.measure.setup import read_setup, run_setup
from rehearse.measure.traffic import app_queries_of, replay_apps
from rehearse.sql.remedy_batches import TableFacts

INTEGER_KEY = """
    SELECT a.attname FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = to_regclass(%s) AND i.indisprimary AND i.indnatts = 1
      AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)"""


def table_facts(config: RehearsalConfig, tables: list[str]) -> dict[str, TableFacts]:
    """{table: TableFacts} for the tables of the template that exist (read only)."""
    if not tables:
        return {}
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    dataset = baseline.dataset(server, config, baseline.load_profile(config))
    facts = {}
    with server.connect(dataset.name) as conn:
        for table in dict.fromkeys(tables):
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
                continue
            key = conn.execute(INTEGER_KEY, (table,)).fetchone()
            rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*table.split(".", 1))))
            facts[table] = TableFacts(key[0] if key else None, rows.fetchone()[0])
    return facts


@dataclasses.dataclass(frozen=True)
class Job:
    """One remedy to rehearse: the rewritten migration, how many of the release's parts ran before it, and
    what its saved run records about it (manifest.release)."""

    migration: object  # rehearse.sql.migration.Migration
    after: int
    about: dict


def rehearse_remedies(parts, jobs: list[Job], config: RehearsalConfig, static_findings=None) -> list[RehearsalResult]:
    """Each job rehearsed on a fresh copy (see the module docstring); each run saved."""
    quiet = dataclasses.replace(config, rollback=False, fail_at=None, fail_after=None, keep=False)
    reaching = [confine.check_statements(p.migration, config) for p in parts]
    reaching += [confine.check_statements(job.migration, config) for job in jobs]
    setup_sql = read_setup(config.setup)
    apps = replay_apps(config)
    traffic = (app_queries_of(config, apps) if config.app_queries else None, apps)
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    roles = confine.roles(server, [r for found in reaching for r in found], config)
    saved = []
    with one_line_if_lost(server, "during the remedies' rehearsals"):
        dataset = baseline.dataset(server, config, baseline.load_profile(config))
        for job in jobs:
            before = [p.migration for p in parts[: job.after]]
            result = _on_fresh_copy(server, roles, dataset, before, job, quiet, (setup_sql, traffic))
            findings = static_findings(job.migration, quiet, server.version) if static_findings else None
            manifest = dataclasses.replace(result.manifest, release=job.about)
            saved.append(dataclasses.replace(result, manifest=manifest, findings=findings))
            saved[-1].save()
    return saved


def _on_fresh_copy(server, roles, dataset, before, job: Job, config, prepared: tuple) -> RehearsalResult:
    setup_sql, traffic = prepared
    with dbserver.clone_for(server, roles, dataset.name) as scratch:
        if setup_sql:
            run_setup(roles.migration, scratch, setup_sql, config.setup)
        _apply(server, roles, scratch, before, config)
        label = f"remedy-{job.about['file'].removesuffix('.sql')}"
        return runner.rehearse_on(server, roles, dataset, scratch, job.migration, config, traffic, label)


def _apply(server, roles, scratch: str, migrations, config: RehearsalConfig) -> None:
    """The release's earlier migrations, as the engine runs them, with no one watching."""
    executor = MigrationExecutor(server, scratch, lock_timeout_ms=config.lock_timeout, login=roles.migration)
    try:
        for migration in migrations:
            failed = [r for r in executor.run(migration) if r.status == "failed"]
            if failed:
                raise RehearsalError(
                    f"{migration.name} failed when applied again before a remedy "
                    f"(statement {failed[0].index}: {failed[0].error}); rerun with --no-remedies"
                )
    finally:
        executor.close()
