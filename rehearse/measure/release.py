"""A release rehearsed as production applies it: its migrations in deploy order on ONE clone under traffic
(one saved run each, the copy kept migrated between them), then their rollbacks in reverse order on a quiet
copy. A failed migration stops the release there, as it stops a deploy: the ones after it are not run."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime

import datagen
import dbserver
from rehearse.measure import runner
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.result import RehearsalResult
from rehearse.measure.rollback import verify_release_rollback


def rehearse_release(parts, config: RehearsalConfig, review_id: str) -> list[RehearsalResult]:
    """Rehearse each part (rehearse.sql.release.Part) in order; each run saved with the rollback it got."""
    traffic = dataclasses.replace(config, rollback=False)  # downs never run between a release's migrations
    setup_sql, apps, app_queries = runner.prepare(config)
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    dataset = datagen.build(scale=config.scale, seed=config.seed, dirt=runner._dirt(config), server=server)
    results = []
    with dbserver.clone(server, dataset.name, name=f"rehearsal_review_{review_id.replace('-', '_')}") as scratch:
        if setup_sql:
            runner._run_setup(server, scratch, setup_sql, config.setup)
        for number, part in enumerate(parts, 1):
            run_id = runner.new_run_id(f"{number:02d}-{part.name}")
            what = (part.migration, part.path)
            result = runner.rehearse_on(server, dataset, scratch, what, traffic, run_id, (apps, app_queries))
            result.manifest["release"] = dict(review_id=review_id, number=number, of=len(parts), name=part.name)
            results.append(result)
            if result.failed:
                break
    reports = verify_release_rollback(
        server, dataset.name, [p.migration for p in parts[: len(results)]], lock_timeout_ms=config.lock_timeout
    )
    for result, report in zip(results, reports):
        result.manifest["rollback"] = report.to_dict()
        result.save()
    return results


def new_review_id(name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() else "-" for ch in name)[:40].strip("-") or "release"
    return f"{stamp}-{safe}-{secrets.token_hex(2)}"
