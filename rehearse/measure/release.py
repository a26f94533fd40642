"""A release rehearsed as production applies it: its migrations in deploy order on ONE clone under traffic
(one saved run each, the copy kept migrated between them), then their rollbacks in reverse order on a quiet
copy. A failed migration stops the release there, as it stops a deploy: the ones after it are not run."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime

import dbserver
from dbserver import leftovers
from dbserver.lost import one_line_if_lost
from rehearse.measure import baseline, confine, runner
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.result import RehearsalResult
from rehearse.measure.rollback import verify_release_rollback
from rehearse.measure.setup import read_setup, run_setup
from rehearse.measure.traffic import app_queries_of, replay_apps


def rehearse_release(parts, config: RehearsalConfig, review_id: str, static_findings=None) -> list[RehearsalResult]:
    """Rehearse each part (rehearse.sql.release.Part) in order; each run saved with the rollback it got.
    `static_findings`: as for rehearse.measure.runner.run, computed per migration and saved with its run."""
    reaching = [confine.check_statements(p.migration, config) for p in parts]  # refused before anything runs
    setup_sql = read_setup(config.setup)
    apps = replay_apps(config)  # a bad --workload, --app-versions or --app-queries fails before anything runs
    traffic = (app_queries_of(config, apps) if config.app_queries else None, apps)
    profile = baseline.load_profile(config)
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    roles = confine.roles(server, [r for found in reaching for r in found], config)
    dropped = leftovers.clean(server, older_than=runner.LEFTOVER_AGE)  # what killed runs left (dbserver.leftovers)
    with one_line_if_lost(server, "during the release rehearsal"):
        dataset = baseline.dataset(server, config, profile)
        results = _on_one_clone(server, roles, dataset, parts, config, (setup_sql, traffic), review_id)
        ran = [p.migration for p in parts[: len(results)]]
        reports = verify_release_rollback(
            server, dataset.name, ran, config.lock_timeout, roles, warm_spare=not config.no_warm_clone
        )
    saved = []
    for part, result, report, found in zip(parts, results, reports, reaching):
        findings = static_findings(part.migration, config, server.version) if static_findings else None
        manifest = dataclasses.replace(
            result.manifest,
            rollback=report,
            leftovers_dropped=list(map(str, dropped)),
            cluster_statements=[r.to_dict() for r in found],
        )
        saved.append(dataclasses.replace(result, manifest=manifest, findings=findings))
        saved[-1].save()
    baseline.prepare_next(server, dataset.name, config)  # the next review's copy, while this one is read
    return saved


def _on_one_clone(server, roles, dataset, parts, config, prepared: tuple, review_id: str) -> list[RehearsalResult]:
    """The parts one after another on one copy, under traffic; stops after the first that fails.
    `prepared`: (setup SQL, traffic) as runner.run reads them."""
    setup_sql, traffic = prepared
    quiet = dataclasses.replace(config, rollback=False)  # downs never run between a release's migrations
    results = []
    name = f"rehearsal_review_{review_id.replace('-', '_')}"
    with baseline.fresh_copy(server, roles, dataset.name, name, config) as (scratch, _):
        if setup_sql:
            run_setup(roles.migration, scratch, setup_sql, config.setup)
        for number, part in enumerate(parts, 1):
            label = f"{number:02d}-{part.name}"
            result = runner.rehearse_on(server, roles, dataset, scratch, part.migration, quiet, traffic, label)
            about = dict(review_id=review_id, number=number, of=len(parts), name=part.name)
            results.append(dataclasses.replace(result, manifest=dataclasses.replace(result.manifest, release=about)))
            if result.failed:
                break
        if config.keep:  # --keep: the copy the whole release ran on, as `rehearse run --keep` keeps its own
            dbserver.rename(server, scratch, kept_name(review_id), "kept")
    return results


def kept_name(review_id: str) -> str:
    """The name `--keep` gives the release's copy: never a leftover, never dropped by `rehearse clean`."""
    return f"rehearsal_kept_review_{review_id[:15]}_{review_id[-4:]}".replace("-", "_")


def new_review_id(name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() else "-" for ch in name)[:40].strip("-") or "release"
    return f"{stamp}-{safe}-{secrets.token_hex(2)}"
