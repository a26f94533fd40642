"""The gate (`rehearse.verdicts.gate`): a failed migration or a rollback that did not restore fails it at every
max_risk; otherwise the verdict's level against max_risk decides. No database: a verdict is level, reasons and
the run's summary."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.errors import BadInput
from rehearse.verdicts.base import LEVELS
from rehearse.verdicts.gate import EXIT_MIGRATION_FAILED, EXIT_OK, EXIT_OVER_RISK, gate

FAILED = {
    "index": 1,
    "status": "failed",
    "error": {"sqlstate": "42P01", "message": 'relation "no_such_table" does not exist'},
}
NOT_RESTORED = {"tested": True, "restored": False, "schema_diff": ["+ table public.t"], "rows_lost": 3}
RESTORED = {"tested": True, "restored": True, "schema_diff": [], "rows_lost": 0}


def judged(level="green", statements=(), rollback=None, reasons=()):
    summary = {
        "outcome": "failed" if any(s.get("status") == "failed" for s in statements) else "succeeded",
        "statements": list(statements),
        "rollback": rollback,
    }
    return SimpleNamespace(level=level, reasons=list(reasons), summary=summary)


@pytest.mark.parametrize("max_risk", LEVELS)
def test_a_failed_migration_never_passes(max_risk):
    result = gate(judged("green", [FAILED]), max_risk=max_risk)
    assert not result and result.exit_code == EXIT_MIGRATION_FAILED
    assert "failed at statement 1: 42P01" in result.explain()


@pytest.mark.parametrize("max_risk", LEVELS)
def test_a_rollback_that_does_not_restore_never_passes(max_risk):
    result = gate(judged("green", rollback=NOT_RESTORED), max_risk=max_risk, rollback=True)
    assert not result.passed and result.exit_code == EXIT_OVER_RISK
    assert "rollback did not restore" in result.explain() and "1 schema difference, 3 rows lost" in result.explain()


def test_a_tested_rollback_counts_even_when_not_asked_for_explicitly():
    assert gate(judged(rollback=NOT_RESTORED), max_risk="red").exit_code == EXIT_OVER_RISK


def test_a_rollback_asked_for_but_not_tested_fails():
    result = gate(judged(rollback={"tested": False}), max_risk="red", rollback=True)
    assert not result and "none was tested" in result.explain()
    assert gate(judged(), max_risk="red", rollback=True).exit_code == EXIT_OVER_RISK


def test_a_restored_rollback_passes():
    result = gate(judged("amber", rollback=RESTORED), max_risk="amber", rollback=True)
    assert result.passed and result.exit_code == EXIT_OK and result.reasons == ()


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("max_risk", LEVELS)
def test_the_level_counts_against_max_risk(level, max_risk):
    result = gate(judged(level, reasons=["statement 1 held AccessExclusiveLock for 9 s"]), max_risk=max_risk)
    over = LEVELS.index(level) > LEVELS.index(max_risk)
    assert result.passed is not over and result.exit_code == (EXIT_OVER_RISK if over else EXIT_OK)
    if over:
        assert f"over max_risk={max_risk}" in result.explain() and "AccessExclusiveLock" in result.explain()


def test_a_failed_migration_wins_over_every_other_reason():
    result = gate(judged("red", [FAILED], NOT_RESTORED), max_risk="amber", rollback=True)
    assert result.exit_code == EXIT_MIGRATION_FAILED and len(result.reasons) == 3


def test_the_summary_given_is_the_one_judged():
    ok = judged("green")
    assert gate(ok, {"outcome": "failed", "statements": [FAILED]}, "red").exit_code == EXIT_MIGRATION_FAILED


def test_an_unknown_max_risk_is_bad_input():
    with pytest.raises(BadInput):
        gate(judged(), max_risk="purple")
