"""The gate: does a rehearsal pass? One answer for `rehearse check`, the template notebook and CI.

A gate means what it says, at every max_risk (red included): it fails when the migration failed, and when a
rollback was asked for (or was tested) and did not bring back the schema and every row. Only then does the
verdict's level count: over max_risk fails too. The exit codes are `rehearse check`'s: 1 the migration
failed (whatever else is wrong), 3 the rollback did not restore or the verdict is over max_risk, 0 passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.text import shorten
from rehearse.verdicts.base import check_level, rank

EXIT_OK, EXIT_MIGRATION_FAILED, EXIT_OVER_RISK = 0, 1, 3


@dataclass(frozen=True)
class Gate:
    """The gate's outcome: passed, the exit code `rehearse check` returns, and each reason it failed."""

    passed: bool
    exit_code: int
    reasons: tuple[str, ...]
    level: str
    max_risk: str

    def __bool__(self) -> bool:
        return self.passed

    def explain(self) -> str:
        if self.passed:
            return f"gate passed: verdict {self.level.upper()} within max_risk={self.max_risk}"
        return "gate FAILED: " + "; ".join(self.reasons)


def gate(judged, result_or_summary=None, max_risk: str = "amber", rollback: bool = False) -> Gate:
    """Judge `judged` (a Verdict) against `max_risk`; `result_or_summary`: the run (default: the verdict's
    own summary); `rollback`: whether a rollback was asked for (a tested rollback always counts)."""
    check_level(max_risk, "max risk")
    data = _summary(result_or_summary, judged)
    failed = _failure(data)
    undone = _rollback_problem(data.get("rollback"), rollback)
    over = _over_risk(judged, max_risk)
    reasons = tuple(r for r in (failed, undone, over) if r)
    code = EXIT_MIGRATION_FAILED if failed else EXIT_OVER_RISK if reasons else EXIT_OK
    return Gate(not reasons, code, reasons, judged.level, max_risk)


def _summary(value, judged) -> dict:
    if value is None:
        return judged.summary
    if hasattr(value, "frames"):
        from rehearse.analysis.summary import summary

        return summary(value)
    return value


def _failure(data: dict) -> str | None:
    failed = [s for s in data.get("statements", []) if s.get("status") == "failed"]
    if not failed and data.get("outcome") != "failed":
        return None
    if not failed:
        return "the migration failed"
    error = failed[0].get("error") or {}
    what = f"{error.get('sqlstate', '?')} {shorten(error.get('message') or '', 80)}".strip()
    return f"the migration failed at statement {failed[0]['index']}: {what}"


def _rollback_problem(report: dict | None, asked: bool) -> str | None:
    if report is None or not report.get("tested"):
        return "a rollback was asked for but none was tested (no down script)" if asked else None
    if report.get("restored"):
        return None
    return "the rollback did not restore the database: " + rollback_facts(report)


def rollback_facts(report: dict) -> str:
    """What a tested rollback left: schema differences, rows lost, and the down script's failure."""
    diffs, lost = len(report.get("schema_diff") or []), report.get("rows_lost") or 0
    facts = f"{diffs} schema difference{'s' * (diffs != 1)}, {lost:,} row{'s' * (lost != 1)} lost"
    error = report.get("down_error")
    if error:
        facts += f", down failed at #{error.get('statement')}: {error.get('sqlstate')} {shorten(str(error.get('message')), 80)}"
    return facts


def _over_risk(judged, max_risk: str) -> str | None:
    if rank(judged.level) <= rank(max_risk):
        return None
    why = "; ".join(judged.reasons[:3])
    return f"verdict {judged.level.upper()} is over max_risk={max_risk}" + (f": {why}" if why else "")
