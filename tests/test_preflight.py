"""Preflight queries on a fresh clone of the dataset, on a real server: answers, setup first, read-only."""

from __future__ import annotations

import pytest

from common.errors import BadInput
from rehearse.measure import preflight
from rehearse.present import incidents

TINY = dict(scale=0.01, seed=4242)
FK = incidents.MIGRATIONS / "02_foreign_key_on_inconsistent_data"


def write(tmp_path, text: str):
    path = tmp_path / "check.sql"
    path.write_text(text)
    return path


def test_finds_every_planted_orphan_and_none_after_the_data_fix():
    dirty = dict(TINY, dirt_orphan_items=0.01)
    planted = incidents.dataset(**dirty).manifest["dirt_achieved"]["orphan_items"]
    found = preflight.run(FK / "preflight.sql", **dirty)
    assert list(found.columns) == ["orphaned_items"]
    assert found["orphaned_items"].iloc[0] == planted > 0
    fixed = preflight.run(FK / "preflight.sql", setup=str(FK / "datafix.sql"), **dirty)
    assert fixed["orphaned_items"].iloc[0] == 0


def test_the_last_query_that_returns_rows_is_the_answer(tmp_path):
    path = write(
        tmp_path,
        "-- two checks\nSELECT 1 AS a;\nSELECT order_status, count(*) AS n FROM orders "
        "GROUP BY order_status ORDER BY order_status;\nSET LOCAL work_mem = '8MB';\n",
    )
    found = preflight.run(path, **TINY)
    assert list(found.columns) == ["order_status", "n"]
    assert found["n"].sum() == incidents.dataset(**TINY).manifest["rows"]["orders"]


def test_a_query_that_writes_is_refused_and_changes_nothing(tmp_path):
    with pytest.raises(BadInput, match="tries to write"):
        preflight.run(write(tmp_path, "DELETE FROM order_items;"), **TINY)
    count = preflight.run(write(tmp_path, "SELECT count(*) AS n FROM order_items;"), **TINY)
    assert count["n"].iloc[0] == incidents.dataset(**TINY).manifest["rows"]["order_items"]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("-- nothing but a comment\n", "no query"),
        ("SELECT no_such_column FROM orders;", "query 1 failed"),
    ],
)
def test_bad_files_are_reported_with_the_fix(tmp_path, text, problem):
    with pytest.raises(BadInput, match=problem):
        preflight.run(write(tmp_path, text), **TINY)


def test_missing_file_and_unknown_option_are_refused(tmp_path):
    with pytest.raises(BadInput, match="not found"):
        preflight.run(tmp_path / "nope.sql", **TINY)
    with pytest.raises(BadInput, match="unknown option"):
        preflight.run(FK / "preflight.sql", scael=0.01)
