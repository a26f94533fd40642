"""Tested rollback, injected failures and the state a migration leaves behind, on a real server."""

from __future__ import annotations

import pytest

from common.errors import BadInput
from rehearse import run
from rehearse.analysis.summary import summary

FAST = dict(scale=0.01, seed=4242, rate=50, clients=4, warmup=0.3, cooldown=0.3)


def write(tmp_path, up: str, down: str | None = None):
    (tmp_path / "up.sql").write_text(up)
    if down is not None:
        (tmp_path / "down.sql").write_text(down)
    return tmp_path


def test_round_trip_that_restores_everything(tmp_path):
    path = write(tmp_path, "ALTER TABLE orders ADD COLUMN note text;", "ALTER TABLE orders DROP COLUMN note;")
    data = summary(run(path, rollback=True, **FAST))
    assert data["rollback"]["restored"] and data["rollback"]["reapplied"]
    assert [s["phase"] for s in data["statements"]] == ["up", "down"]


def test_lossy_rollback_is_counted_and_the_schema_difference_named(tmp_path):
    up = "ALTER TABLE orders ALTER COLUMN total_amount TYPE numeric(12,0);"
    down = "ALTER TABLE orders ALTER COLUMN total_amount TYPE numeric(12,2);"
    data = summary(run(write(tmp_path, up, down), rollback=True, **FAST))
    assert not data["rollback"]["restored"]
    assert data["rollback"]["rows_lost"] > 0  # cents were rounded away on the way up
    assert data["rollback"]["rows_lost_by_table"].keys() == {"public.orders"}


def test_rollback_that_forgets_something_lists_it(tmp_path):
    up = "ALTER TABLE orders ADD COLUMN note text;\nCREATE INDEX orders_note_idx ON orders (note);"
    down = "DROP INDEX orders_note_idx;"
    data = summary(run(write(tmp_path, up, down), rollback=True, **FAST))
    assert not data["rollback"]["restored"]
    assert any(line.startswith("column public.orders.note: added") for line in data["rollback"]["schema_diff"])


def test_missing_down_script_is_refused_before_running(tmp_path):
    with pytest.raises(BadInput, match="needs a down script"):
        run(write(tmp_path, "ALTER TABLE orders ADD COLUMN note text;"), rollback=True, **FAST)


def test_injected_failure_in_a_transaction_leaves_nothing(tmp_path):
    up = "ALTER TABLE orders ADD COLUMN a int;\nALTER TABLE orders ADD COLUMN b int;\nALTER TABLE orders ADD COLUMN c int;"
    data = summary(run(write(tmp_path, up), fail_at=2, **FAST))
    assert data["outcome"] == "failed"
    assert data["statements"][1]["error"]["sqlstate"] == "P0001"
    assert data["state_after"]["schema_diff"] == []


def test_failure_outside_a_transaction_leaves_a_partial_state_and_an_invalid_index(tmp_path):
    up = (
        "-- rehearse:no-transaction\nALTER TABLE orders ADD COLUMN a int;\n"
        "CREATE UNIQUE INDEX CONCURRENTLY orders_status_key ON orders (order_status);\n"
        "ALTER TABLE orders ADD COLUMN b int;"
    )
    data = summary(run(write(tmp_path, up), **FAST))
    assert data["statements"][1]["error"]["sqlstate"] == "23505"
    assert "INVALID index public.orders_status_key" in data["state_after"]["leftovers"]
    assert any(line.startswith("column public.orders.a: added") for line in data["state_after"]["schema_diff"])
    assert not any("orders.b" in line for line in data["state_after"]["schema_diff"])


def test_fail_at_must_name_a_statement(tmp_path):
    with pytest.raises(BadInput, match="no such SQL statement"):
        run(write(tmp_path, "SELECT 1;"), fail_at=5, **FAST)


def test_fail_after_cancels_the_running_statement(tmp_path):
    data = summary(
        run(write(tmp_path, "ALTER TABLE orders ADD COLUMN a int;\nSELECT pg_sleep(5);"), fail_after=0.5, **FAST)
    )
    assert data["statements"][1]["error"]["sqlstate"] == "57014"
    assert data["statements"][1]["duration_ms"] < 3000
    assert data["state_after"]["schema_diff"] == []  # the transaction was rolled back


def test_fail_after_can_terminate_the_backend(tmp_path):
    data = summary(
        run(
            write(
                tmp_path,
                "ALTER TABLE orders ADD COLUMN a int;\nSELECT pg_sleep(5);\nALTER TABLE orders ADD COLUMN b int;",
            ),
            fail_after=0.5,
            fail_mode="terminate",
            **FAST,
        )
    )
    assert data["outcome"] == "failed"
    assert data["statements"][1]["status"] == "failed" and data["statements"][2]["status"] == "skipped"
    assert data["state_after"]["schema_diff"] == []
