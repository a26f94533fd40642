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

from common.errors import BadInput
from common.paths import data_dir
from rehearse.extrapolate import production as prod
from rehearse.extrapolate import single
from rehearse.measure.config import RehearsalConfig, configure
from rehearse.measure.release import new_review_id, rehearse_release
from rehearse.sql import release as release_sql
from rehearse.verdicts import decision, verbs
from rehearse.verdicts import remedies as _remedies
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


def review(
    paths,
    config=None,
    max_risk="amber",
    thresholds=None,
    revisions=(None, None),
    production_dsn=None,
    remedies=True,
    **options,
):
    """Rehearse the release made of `paths` (see rehearse.sql.release) and save its summary.

    `revisions`: an Alembic range (from, to); options are RehearsalConfig fields. Each run is judged at
    production size as `rehearse check` judges it: `production_rows`, or `production_dsn`'s row counts read
    once, now, else SF 1 (a twin: its profile's). `remedies`: also write and rehearse the mechanical rewrites
    of its red statements (rehearse.verdicts.remedies), one more run each."""
    config = configure(config, options)
    check_level(max_risk, "max risk")
    th = load_thresholds(thresholds)  # a bad file, path, range or changelog fails before any rehearsal
    parts = release_sql.parts(paths, *revisions, config.max_migration_mb, config.down, config.rollback)
    config = _production_rows(config, production_dsn)
    name = " + ".join(dict.fromkeys(Path(p).name for p in map(str, paths)))
    review_id = new_review_id(name)
    results = rehearse_release(parts, config, review_id, static_findings)
    migrations = [_migration(p, r, th, max_risk, config.rollback) for p, r in zip(parts, results)]
    migrations += [decision.not_run(p.name, p.path) for p in parts[len(results) :]]
    folder = reviews_dir() / review_id
    folder.mkdir(parents=True, exist_ok=True)
    fixes = _remedies.measure(parts, results, migrations, config, folder, review_id, th) if remedies else []
    sizes = single.production(results[0]).to_dict()
    release = decision.release(name, migrations, max_risk, results[0].manifest, sizes)
    release |= dict(review_id=review_id, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    release |= dict(remedies="measured" if remedies else "skipped", remedy_run_ids=[r.run_id for r in fixes])
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


def _production_rows(config: RehearsalConfig, production_dsn: str | None) -> RehearsalConfig:
    """The config with the production row counts its verdicts judge, checked before any rehearsal."""
    tables = prod.dataset_tables(config.to_dict())
    if production_dsn is not None:
        if config.production_rows is not None:
            raise BadInput("give --production-rows or --production-dsn, not both")
        config = replace(config, production_rows=single.rows_from(production_dsn, tables))
    single.check_rows(config.production_rows, tables)
    return config


def _migration(part, result, thresholds, max_risk: str, rollback: bool = False) -> dict:
    """One migration of the release: its run judged at production size (as `rehearse check` judges it), each
    statement with the source and line it was written at (from the migration the run saved) and its
    projection. `rollback` (`--rollback`): a rollback not tested fails the gate, as for `rehearse check`."""
    judged = verbs.judge(result, thresholds)
    data = judged.annotate(max_risk)
    written = {s.index: s for s in result.migration.statements}
    for st in data["statements"]:
        at = written.get(st["index"])
        st.update(source=at and at.source, line=at and at.line, projection=judged.projection.get(st["index"]))
    passed = gate(judged, data, max_risk, rollback=rollback)
    return data | dict(
        name=part.name,
        path=part.path,
        run_id=result.run_id,
        report=None,
        gate=dict(passed=passed.passed, exit_code=passed.exit_code, reasons=list(passed.reasons)),
    )
