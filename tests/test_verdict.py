"""The verdict: the findings catalogue and its example pairs, static and dynamic rules, and `rehearse check`."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from common.errors import BadInput
from rehearse import cli
from rehearse.sql.migration import load
from rehearse.verdicts import squawk as _squawk
from rehearse.verdicts.findings import CATALOGUE
from rehearse.verdicts.judge import compare_paragraph, load_thresholds, verdict
from rehearse.verdicts.rules_static import hits as static_hits

ROOT = Path(__file__).resolve().parents[1]
STATIC = [f for f in CATALOGUE if f.evidence in ("static", "both")]
FAST = ["--scale", "0.01", "--seed", "42", "--rate", "100", "--warmup", "0.5", "--cooldown", "0.5"]


def ids(hits) -> set[str]:
    return {h.finding_id for h in hits}


def static_ids(sql: str, tmp_path, lock_timeout=None) -> set[str]:
    path = tmp_path / "up.sql"
    path.write_text(sql)
    return ids(static_hits(load(path), lock_timeout))


# --- the catalogue -------------------------------------------------------------------------------------------


def test_catalogue_entries_are_complete_and_unique():
    assert len({f.id for f in CATALOGUE}) == len(CATALOGUE)
    for f in CATALOGUE:
        assert re.fullmatch(r"R\d{3}-[a-z0-9-]+", f.id)
        assert all([f.title, f.condition, f.effect, f.workaround, f.safer_form])
        assert f.evidence in ("static", "rehearsal", "both")


@pytest.mark.parametrize("finding", CATALOGUE, ids=lambda f: f.id)
def test_every_finding_has_both_example_files(finding):
    assert (ROOT / finding.risky_example).is_file(), finding.risky_example
    assert (ROOT / finding.safer_example).is_file(), finding.safer_example
    load(ROOT / finding.risky_example), load(ROOT / finding.safer_example)  # both parse


@pytest.mark.parametrize("finding", STATIC, ids=lambda f: f.id)
def test_static_finding_fires_on_risky_example_not_on_safer(finding):
    assert finding.id in ids(static_hits(load(ROOT / finding.risky_example)))
    assert finding.id not in ids(static_hits(load(ROOT / finding.safer_example)))


# --- static rules: what earlier statements change ---------------------------------------------------------------


def test_lock_timeout_set_local_covers_only_its_block(tmp_path):
    sql = (
        "BEGIN; SET LOCAL lock_timeout = '1s'; ALTER TABLE orders ADD COLUMN a int; COMMIT;\n"
        "ALTER TABLE orders ADD COLUMN b int;"
    )
    hits = static_hits(load(_write(tmp_path, sql)))
    assert [h.index for h in hits if h.finding_id == "R008-no-lock-timeout"] == [5]


def test_lock_timeout_zero_or_reset_is_no_timeout(tmp_path):
    assert "R008-no-lock-timeout" in static_ids("SET lock_timeout = 0; ALTER TABLE orders ADD COLUMN a int;", tmp_path)
    assert "R008-no-lock-timeout" in static_ids(
        "SET lock_timeout = '1s'; RESET lock_timeout; ALTER TABLE orders ADD COLUMN a int;", tmp_path
    )
    assert "R008-no-lock-timeout" not in static_ids("ALTER TABLE orders ADD COLUMN a int;", tmp_path, 2000)


def test_tables_created_by_the_migration_are_not_findings(tmp_path):
    sql = (
        "CREATE TABLE notes (id bigint, order_id bigint, body text);\n"
        "CREATE INDEX notes_order_idx ON notes (order_id);\n"
        "ALTER TABLE notes ADD FOREIGN KEY (order_id) REFERENCES orders (order_id);\n"
        "ALTER TABLE notes ALTER COLUMN body SET NOT NULL;\nUPDATE notes SET body = '';"
    )
    found = static_ids(sql, tmp_path)
    assert not found & {
        "R003-blocking-index-build",
        "R004-fk-validated-in-place",
        "R005-not-null-scan",
        "R006-single-transaction-backfill",
    }


def test_set_not_null_after_a_not_valid_check_that_was_never_validated_still_scans(tmp_path):
    sql = (
        "ALTER TABLE orders ADD CONSTRAINT c CHECK (currency IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;"
    )
    assert "R005-not-null-scan" in static_ids(sql, tmp_path)


def test_rewrites_recognised_from_the_parse_tree(tmp_path):
    for sql in (
        "VACUUM FULL orders",
        "ALTER TABLE orders ADD COLUMN u uuid DEFAULT gen_random_uuid()",
        "ALTER TABLE orders SET UNLOGGED",
    ):
        assert "R001-table-rewrite" in static_ids(sql, tmp_path), sql
    # A constant or stable default is stored in the catalogue: no rewrite since PostgreSQL 11.
    assert "R001-table-rewrite" not in static_ids("ALTER TABLE orders ADD COLUMN t timestamptz DEFAULT now()", tmp_path)


def _write(tmp_path, sql: str) -> Path:
    path = tmp_path / "up.sql"
    path.write_text(sql)
    return path


# --- dynamic rules on synthetic summaries -----------------------------------------------------------------------

BASE_STATEMENT = dict(
    index=1,
    sql="ALTER TABLE orders ADD COLUMN a int",
    kind="ALTER TABLE",
    status="ok",
    duration_ms=5.0,
    rows=None,
    locks=[dict(relation="public.orders", mode="AccessExclusiveLock")],
    strongest_lock="AccessExclusiveLock",
    lock_wait_ms=0.0,
    lock_hold_ms=5.0,
    rewrote=False,
    rewritten=[],
    scanned=False,
    scanned_tables=[],
    blocked_app_tx=0,
    blocked_app_ms_max=0.0,
    blocked_app_ms_total=0.0,
    wal_bytes=0,
    dead_tuples=0,
    size_delta_bytes=0,
    error=None,
)
QUIET = dict(
    transactions=100, errors=0, error_rate=0.0, p50_ms=3.0, p95_ms=10.0, p99_ms=20.0, max_ms=25.0, tx_per_s=100.0
)


def summary(errors=(), during_p99=20.0, **statement) -> dict:
    during = dict(QUIET, p99_ms=during_p99)
    return dict(
        run_id="test",
        migration="synthetic",
        outcome="succeeded",
        postgres_version="18",
        statements=[dict(BASE_STATEMENT, **statement)],
        errors=list(errors),
        workload=dict(before=QUIET, during=during, after=QUIET),
    )


def judge(data, **kw):
    return verdict(data, None, **kw)


@pytest.mark.parametrize("hold, level", [(150, "green"), (200, "amber"), (1999, "amber"), (2000, "red")])
def test_access_exclusive_hold_levels(hold, level):
    v = judge(summary(lock_hold_ms=hold))
    assert v.level == level
    assert ("R002-access-exclusive-held" in v.finding_ids) == (level != "green")


def test_write_blocking_lock_is_r011_and_row_exclusive_is_nothing():
    share = judge(
        summary(strongest_lock="ShareLock", lock_hold_ms=500, locks=[dict(relation="public.orders", mode="ShareLock")])
    )
    assert share.finding_ids == ["R011-writes-blocked"] and share.level == "amber"
    assert "reads go on" in share.statements[0].reasons[0]
    assert judge(summary(strongest_lock="RowExclusiveLock", lock_hold_ms=60_000)).level == "green"


@pytest.mark.parametrize("blocked, level", [(99, "green"), (100, "amber"), (1000, "red")])
def test_app_blocked_levels(blocked, level):
    v = judge(summary(blocked_app_tx=3, blocked_app_ms_max=blocked, blocked_app_ms_total=blocked * 2))
    assert v.level == level and ("R010-app-blocked" in v.finding_ids) == (level != "green")


@pytest.mark.parametrize("during, level", [(90, "green"), (100, "amber"), (249, "amber"), (250, "red")])
def test_p99_ratio_levels_against_the_floor(during, level):
    # before p99 is 20 ms, under the 50 ms floor: the ratio is during / 50.
    assert judge(summary(during_p99=during)).level == level


def test_application_errors_after_the_migration_are_red_and_before_it_are_ignored():
    undefined = dict(phase="after", kind="read_order", sqlstate="42703", count=7, example='column "x" does not exist')
    v = judge(summary(errors=[undefined]))
    assert v.level == "red" and v.finding_ids == ["R007-app-incompatible"]
    assert "7 application transactions failed" in v.reasons[0] and "42703 (undefined_column)" in v.reasons[0]
    assert judge(summary(errors=[dict(undefined, phase="before")])).level == "green"
    timeout = dict(undefined, sqlstate="55P03", example="canceling statement due to lock timeout")
    assert judge(summary(errors=[timeout])).finding_ids == ["R010-app-blocked"]
    # an error the application made as often before the migration is its own background, not the migration's
    collision = dict(undefined, sqlstate="23505", example="duplicate key value violates unique constraint")
    assert judge(summary(errors=[collision, dict(collision, phase="before", kind="insert tags")])).level == "green"
    assert judge(summary(errors=[collision, dict(collision, phase="before", count=1)])).level == "red"  # 3.5 % vs 1 %


def test_failed_migration_is_red_with_its_sqlstate():
    v = judge(summary(status="failed", error=dict(sqlstate="23503", message="violates foreign key")))
    assert v.level == "red" and "R009-migration-failed" in v.finding_ids
    assert "23503 (foreign_key_violation)" in v.reasons[0]


def test_a_deadlocked_migration_says_production_may_pick_another_victim():
    v = judge(summary(status="failed", error=dict(sqlstate="40P01", message="deadlock detected")))
    assert v.level == "red" and "40P01 (deadlock_detected)" in v.reasons[0]
    assert "victim may differ in production" in v.reasons[0]
    other = judge(summary(status="failed", error=dict(sqlstate="23503", message="violates foreign key")))
    assert "victim" not in other.reasons[0]


def test_projection_to_production_size_raises_the_level():
    projection = {1: dict(rows=10_000_000, duration_ms=30_000.0, low_ms=20_000.0, high_ms=45_000.0, model="linear")}
    v = judge(summary(lock_hold_ms=50), projection=projection)
    assert v.level == "red" and "projected 30.0 s at production size" in v.reasons[0]


def test_a_hold_through_a_backfill_names_the_backfills_model():
    from rehearse.verdicts.projected import model_of_hold

    add_column = dict(index=1, duration_ms=5.0, model="constant")  # catalogue only: its own time is flat
    backfill = dict(index=2, duration_ms=138_000.0, model="nlogn")  # holds ADD COLUMN's lock till COMMIT
    assert model_of_hold([add_column, backfill], 1) == "statement 2's nlogn"
    assert model_of_hold([backfill], 2) == "nlogn" and model_of_hold([dict(add_column, model=None)], 1) is None


def test_thresholds_from_a_user_file(tmp_path):
    mine = tmp_path / "t.toml"
    mine.write_text("red_hold_ms = 40\n")
    assert judge(summary(lock_hold_ms=50), thresholds=mine).level == "red"
    assert load_thresholds(mine).amber_blocked_ms == load_thresholds().amber_blocked_ms  # others kept
    mine.write_text("red_hold = 40\n")
    with pytest.raises(BadInput, match="unknown key"):
        load_thresholds(mine)
    mine.write_text('static = "purple"\n')
    with pytest.raises(BadInput, match="green, amber, red"):
        load_thresholds(mine)


def test_renderings_carry_the_numbers():
    risky = judge(
        summary(
            lock_hold_ms=2500, blocked_app_tx=4, blocked_app_ms_max=2400, blocked_app_ms_total=5000, during_p99=2450
        )
    )
    safer = judge(summary(strongest_lock=None, locks=[], lock_hold_ms=0))
    json.dumps(risky.to_dict()), json.dumps(risky.annotate("amber"))
    text = risky.explain()
    assert "held AccessExclusiveLock on public.orders for 2.5 s" in text and "Verdict: RED because" in text
    assert "2,450 ms vs 20 ms before" in text
    paragraph = compare_paragraph({"risky": risky, "safer": safer})
    assert "risky: RED" in paragraph and "safer: GREEN" in paragraph and "from 2.4 s to 0 ms" in paragraph


def test_squawk_is_skipped_silently_when_absent(monkeypatch):
    monkeypatch.setattr(_squawk, "find", lambda: None)
    v = verdict(summary(), ROOT / "migrations/04_backfill_single_vs_batched/risky")
    assert v.squawk == "not installed"
    assert not any(f.startswith("squawk:") for f in v.finding_ids)


@pytest.mark.skipif(_squawk.find() is None, reason="squawk not installed (pip install squawk-cli)")
def test_squawk_findings_are_merged_and_labelled():
    v = verdict(summary(), ROOT / "migrations/02_foreign_key_on_inconsistent_data/risky")
    linted = [h for h in v.statement(1).hits if h.source == "static (squawk)"]
    assert "squawk:adding-foreign-key-constraint" in {h.finding_id for h in linted}
    assert v.squawk.startswith("ran on 1 file")


# --- end to end: rehearse check --------------------------------------------------------------------------------


def check(path, tmp_path, *flags) -> tuple[int, dict]:
    out = tmp_path / "verdict.json"
    code = cli.main(["check", str(path), *FAST, "--json", str(out), *flags])
    return code, json.loads(out.read_text())


def test_check_risky_backfill_is_red_and_over_amber(tmp_path):
    junit = tmp_path / "verdict.xml"
    code, data = check(
        ROOT / "migrations/04_backfill_single_vs_batched/risky", tmp_path, "--max-risk", "amber", "--junit", str(junit)
    )
    assert code == cli.EXIT_OVER_RISK and data["verdict"] == "red" and not data["passed"]
    assert {"R002-access-exclusive-held", "R006-single-transaction-backfill"} <= set(data["finding_ids"])
    assert [s["verdict"] for s in data["statements"]] and all("finding_ids" in s for s in data["statements"])
    suite = ET.parse(junit).getroot().find("testsuite")
    assert len(suite.findall("testcase")) == len(data["statements"]) + 1  # + the application's testcase
    assert int(suite.get("failures")) >= 1 and suite.find("testcase/failure").get("message")


def test_check_safer_backfill_passes_amber(tmp_path):
    code, data = check(ROOT / "migrations/04_backfill_single_vs_batched/safer", tmp_path, "--max-risk", "amber")
    assert code == cli.EXIT_OK and data["verdict"] in ("green", "amber")
    assert not {"R002-access-exclusive-held", "R006-single-transaction-backfill"} & set(data["finding_ids"])


def test_check_failed_migration_exits_1(tmp_path):
    bad = _write(tmp_path, "ALTER TABLE orders ADD CONSTRAINT never CHECK (total_amount < 0);")
    code, data = check(bad, tmp_path, "--max-risk", "red")
    assert code == cli.EXIT_MIGRATION_FAILED and "R009-migration-failed" in data["finding_ids"]


def _flyway_without_u2(tmp_path) -> Path:
    """V1 and V2 but only U1: the rollback undoes V1 and leaves V2's table behind."""
    folder = tmp_path / "flyway"
    folder.mkdir()
    (folder / "V1__note.sql").write_text("ALTER TABLE orders ADD COLUMN note text;")
    (folder / "V2__audit.sql").write_text("CREATE TABLE order_audit (order_id bigint, noted_at timestamptz);")
    (folder / "U1__note.sql").write_text("ALTER TABLE orders DROP COLUMN note;")
    return folder


def test_check_fails_a_rollback_that_does_not_restore_even_at_max_risk_red(tmp_path, capsys):
    code, data = check(_flyway_without_u2(tmp_path), tmp_path, "--rollback", "--max-risk", "red")
    out = capsys.readouterr().out
    assert code == cli.EXIT_OVER_RISK and not data["passed"] and data["rollback"]["restored"] is False
    assert re.search(r"gate FAILED: the rollback did not restore the database: [1-9]\d* schema differences?", out)
    assert any("rollback did not restore" in reason for reason in data["gate_reasons"])


def test_run_rollback_prints_its_outcome_in_one_line(tmp_path, capsys):
    code = cli.main(["run", str(_flyway_without_u2(tmp_path)), *FAST, "--rollback", "--no-report"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("rollback:")]
    assert code == cli.EXIT_OK  # the migration itself succeeded
    assert len(lines) == 1 and re.fullmatch(
        r"rollback: NOT restored \([1-9]\d* schema differences?, 0 rows lost\)", lines[0]
    )


def test_check_bad_input_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["check", str(ROOT / "migrations/04_backfill_single_vs_batched/safer"), "--max-risk", "purple"])
    assert stopped.value.code == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.count("\n") == 1
    missing = tmp_path / "none.toml"
    safer = str(ROOT / "migrations/04_backfill_single_vs_batched/safer")
    assert cli.main(["check", safer, "--thresholds", str(missing)]) == cli.EXIT_BAD_INPUT
