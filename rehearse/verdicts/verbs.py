"""The public verbs that end in a verdict: run, run_scales, judge and check, each a plain function.

`run` and `run_scales` rehearse with the static findings computed once, when the migration runs, and
saved with the run; `judge` is the one path from a result (with its projection, if it has one) and
thresholds to a verdict, which `rehearse run` and `rehearse check` both take.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.errors import BadInput
from rehearse.extrapolate import scales as _scales
from rehearse.extrapolate import single as _single
from rehearse.measure import runner as _runner
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.result import RehearsalResult
from rehearse.sql.migration import Migration
from rehearse.verdicts.base import check_level, load_thresholds
from rehearse.verdicts.gate import Gate, gate
from rehearse.verdicts.judge import Verdict, static_findings, verdict


def run(
    path: str | Path | Migration, config: RehearsalConfig | None = None, production_dsn: str | None = None, **options
) -> RehearsalResult:
    """Rehearse the migration at `path` (or a parsed Migration) under traffic; options are RehearsalConfig
    fields. The result carries the migration as parsed, its plan and its static findings. The production
    size its verdict judges (`production_rows`, or `production_dsn` read once, now) is checked first."""
    rows = (config.production_rows if config else None) or options.get("production_rows")
    if production_dsn is not None:
        if rows is not None:
            raise BadInput("give --production-rows or --production-dsn, not both")
        rows = options["production_rows"] = _single.rows_from(production_dsn, _dataset_tables())
    _single.check_rows(rows, _dataset_tables())
    return _runner.run(path, config, static_findings, **options)


def run_scales(path, scales, production_rows=None, production_dsn=None, **options) -> _scales.ScaledRehearsal:
    """Rehearse at each scale (the migration parsed once), fit, project, and save the projection in a
    folder of its own; `scaled.result` is the largest run with its projection."""
    return _scales.run_scales(path, scales, production_rows, production_dsn, static_findings, **options)


def _dataset_tables() -> list[str]:
    from datagen.tables import TABLES

    return [f"public.{t.name}" for t in TABLES]


def judge(result: RehearsalResult, thresholds=None) -> Verdict:
    """The verdict on a result from what it carries: its statements, static findings and projection."""
    return verdict(result, thresholds=thresholds)


@dataclass
class Checked:
    """What `check` found: the rehearsal, its verdict, and whether it passes the gate."""

    result: RehearsalResult
    verdict: Verdict
    max_risk: str

    @property
    def gate(self) -> Gate:
        """The one gate (rehearse/verdicts/gate.py): a failed migration, or a rollback asked for that did not
        restore, fails at every max_risk."""
        return gate(self.verdict, self.verdict.summary, self.max_risk, rollback=self.result.manifest.config.rollback)

    @property
    def passed(self) -> bool:
        return self.gate.passed


def check(path, max_risk: str = "amber", thresholds=None, production_dsn: str | None = None, **options) -> Checked:
    """The CI gate: rehearse `path` (options are RehearsalConfig fields), judge it with `thresholds` at
    production size (`production_rows`, `production_dsn`, else SF 1), and say whether the verdict is within
    `max_risk`. Bad input fails before the rehearsal starts."""
    check_level(max_risk, "max risk")
    thresholds = load_thresholds(thresholds) if not hasattr(thresholds, "static") else thresholds
    result = run(path, production_dsn=production_dsn, **options)
    return Checked(result, judge(result, thresholds), max_risk)
