"""rehearse.review: a release rehearsed (rehearse.measure.release), projected to production, judged and gated.

The release summary, `data/reviews/<review-id>/release.json`, is what the release page, the pull-request
comment and the SARIF log render: per migration its run id and annotated run summary, each statement with
the `source` and `line` it was written at and its projection. Every number in it comes from the saved runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import dbserver
from common.errors import BadInput
from common.paths import data_dir
from rehearse.analysis.summary import summary
from rehearse.extrapolate import production as prod
from rehearse.extrapolate import single
from rehearse.measure.config import RehearsalConfig, configure
from rehearse.measure.release import new_review_id, rehearse_release
from rehearse.sql import release as release_sql
from rehearse.verdicts import decision, verbs
from rehearse.verdicts.base import check_level, load_thresholds
from rehearse.verdicts.gate import gate
from rehearse.verdicts.judge import static_findings


@dataclass
class Review:
    """A rehearsed release: its id, the release summary, the runs, and the exit code `rehearse review` returns."""

    review_id: str
    release: dict
    results: list
    exit_code: int

    @property
    def folder(self) -> Path:
        return reviews_dir() / self.review_id


def reviews_dir() -> Path:
    return data_dir() / "reviews"


def review(paths, config=None, max_risk="amber", thresholds=None, revisions=(None, None), production=None, **options):
    """Rehearse the release made of `paths` (see rehearse.sql.release) and save its summary.

    `revisions`: an Alembic range (from, to); `production`: {"rows": 'orders=…' or {table: rows}} or
    {"dsn": URL}, the sizes to project to (default SF 1, or a twin's profile); options are RehearsalConfig
    fields."""
    config = configure(config, options)
    check_level(max_risk, "max risk")
    th = load_thresholds(thresholds)  # a bad file, path, range or changelog fails before any rehearsal
    parts = release_sql.parts(paths, *revisions, max_mb=config.max_migration_mb)
    origin = _production_input(production or {}, config)
    name = " + ".join(dict.fromkeys(Path(p).name for p in map(str, paths)))
    review_id = new_review_id(name)
    results = rehearse_release(parts, config, review_id, static_findings)
    sizes = prod.resolve_production(results[0], **origin)
    migrations = [_migration(p, r, sizes, th, max_risk) for p, r in zip(parts, results)]
    migrations += [decision.not_run(p.name, p.path) for p in parts[len(results) :]]
    release = decision.release(name, migrations, max_risk, results[0].manifest, sizes.to_dict())
    release |= dict(review_id=review_id, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    folder = reviews_dir() / review_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "release.json").write_text(json.dumps(release, indent=2, default=str))
    return Review(review_id, release, results, decision.exit_code(migrations))


def load_review(review_id: str) -> dict:
    """A saved release summary, by review id or folder."""
    folder = Path(review_id) if (Path(review_id) / "release.json").is_file() else reviews_dir() / str(review_id)
    if not (folder / "release.json").is_file():
        raise BadInput(
            f"no saved review {review_id!r} (looked in {reviews_dir()}); use an id printed by `rehearse review`"
        )
    return json.loads((folder / "release.json").read_text())


def _production_input(given: dict, config: RehearsalConfig) -> dict:
    """What resolve_production needs: the production server's catalogue, given rows, a twin's profile, or SF 1."""
    if given.get("rows") and given.get("dsn"):
        raise BadInput("give --production-rows or --production-dsn, not both")
    if given.get("dsn"):
        tables = prod.dataset_tables(config.to_dict())
        return dict(catalogue=prod.read_catalogue(given["dsn"], tables), origin=dbserver.mask(given["dsn"]))
    rows = given.get("rows")
    rows = prod.parse_production_rows(rows) if isinstance(rows, str) else rows
    if rows or not config.profile:
        return dict(rows=rows, origin="--production-rows" if rows else "SF 1")
    return dict(rows=prod.profile_rows(config.profile), origin=f"profile {config.profile}")


def _migration(part, result, sizes, thresholds, max_risk: str) -> dict:
    """One migration of the release: its run judged with a one-scale projection, each statement with the
    source and line it was written at (from the migration the run saved)."""
    projection = single.project(summary(result), result.manifest, sizes)
    judged = verbs.judge(replace(result, projection=pd.DataFrame(list(projection.values()))), thresholds)
    data = judged.annotate(max_risk)
    written = {s.index: s for s in result.migration.statements}
    for st in data["statements"]:
        at = written.get(st["index"])
        st.update(source=at and at.source, line=at and at.line, projection=projection.get(st["index"]))
    passed = gate(judged, data, max_risk)
    return data | dict(
        name=part.name,
        path=part.path,
        run_id=result.run_id,
        report=None,
        gate=dict(passed=passed.passed, exit_code=passed.exit_code, reasons=list(passed.reasons)),
    )
