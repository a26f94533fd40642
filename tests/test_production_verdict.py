"""Verdicts judge production size: a small-scale rehearsal of a full-table rewrite is projected, not excused."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rehearse import cli
from rehearse.extrapolate import single
from rehearse.measure.result import load
from rehearse.verdicts.judge import verdict

FAST = ["--scale", "0.001", "--seed", "42", "--rate", "100", "--warmup", "0.5", "--cooldown", "0.5", "--no-report"]
RETYPE = "ALTER TABLE orders ALTER COLUMN total_amount TYPE float8;\n"
ADD = "ALTER TABLE orders ADD COLUMN note text;\n"


def _check(tmp_path, sql: str, *flags) -> tuple[int, dict]:
    path, out = tmp_path / "up.sql", tmp_path / "verdict.json"
    path.write_text(sql)
    flags = [f for f in (*FAST, *flags) if f != "--no-report"]
    code = cli.main(["check", str(path), *flags, "--json", str(out)])
    return code, json.loads(out.read_text()) if out.exists() else {}


@pytest.fixture(scope="module")
def retyped(tmp_path_factory):
    return _check(tmp_path_factory.mktemp("retype"), RETYPE, "--production-rows", "orders=200000000")


def test_a_small_scale_rewrite_of_200m_orders_is_red_with_a_multi_minute_hold(retyped):
    code, data = retyped
    assert code == cli.EXIT_OVER_RISK and data["verdict"] == "red" and not data["passed"]
    statement = data["statements"][0]
    projection = statement["projection"]
    assert projection["rows"] == 200_000_000 and projection["basis"] == single.BASIS
    assert projection["hold_ms"] > 60_000 and projection["hold_low_ms"] <= projection["hold_ms"]
    assert projection["hold_ms"] <= projection["hold_high_ms"]
    hold = next(r for r in statement["reasons"] if "AccessExclusiveLock" in r and "projected" in r)
    assert " min at production size (200,000,000 rows in public.orders" in hold
    assert "public.orders 200,000,000 rows (given)" in data["judged_size"]
    assert "Judged at production size (--production-rows)" in data["explanation"]


def test_the_saved_run_is_judged_again_at_the_same_size(retyped):
    result = load(retyped[1]["run_id"])
    assert result.manifest.config.production_rows == "orders=200000000"
    judged = verdict(result)
    assert judged.level == "red" and judged.judged_size == retyped[1]["judged_size"]


def test_without_a_production_size_the_verdict_judges_sf_1(retyped):
    result = load(retyped[1]["run_id"])
    config = replace(result.manifest.config, production_rows=None)
    result = replace(result, manifest=replace(result.manifest, config=config))
    judged = verdict(result)
    assert "public.orders 10,000,000 rows (SF 1)" in judged.judged_size
    assert judged.projection[1]["rows"] == 10_000_000


def test_a_catalogue_only_change_is_not_projected(tmp_path):
    code, data = _check(tmp_path, ADD, "--production-rows", "orders=200000000", "--max-risk", "red")
    assert code == cli.EXIT_OK and "projection" not in data["statements"][0]
    assert "R002-access-exclusive-held" not in data["finding_ids"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--production-rows", "invoices=5"], "not a dataset table"),
        (["--production-rows", "orders:5"], "expected TABLE=ROWS"),
        (["--production-rows", "orders=5", "--production-dsn", "postgresql://x@nowhere/db"], "not both"),
    ],
)
def test_a_bad_production_size_fails_in_one_line_before_rehearsing(tmp_path, capsys, flags, message):
    code, data = _check(tmp_path, RETYPE, *flags)
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT and not data and err.startswith("FAILED: ") and message in err
    assert err.count("\n") == 1
