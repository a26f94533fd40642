"""Two application versions replayed side by side from two workload files (`--app-versions old.sql,new.sql`):
the compatibility probe PREPAREs every statement of both files before, during and after the migration and
names the statement that broke each; a user's schema (--profile) accepts the two files as its application."""

from __future__ import annotations

import pytest

from common.errors import BadInput
from rehearse import run
from rehearse.analysis.summary import summary
from rehearse.measure.config import RehearsalConfig

FAST = dict(scale=0.01, seed=4242, rate=100, clients=4, warmup=1.0, cooldown=1.0)
# Each statement on its own: the probe sees the column added, then (0.6 s later) the other one dropped.
MIGRATION = """-- rehearse:no-transaction
ALTER TABLE orders ADD COLUMN gift_note text;
SELECT pg_sleep(0.6);
ALTER TABLE orders DROP COLUMN currency;
"""
OLD = """-- weight: 3
SELECT order_id, currency, total_amount FROM orders WHERE order_id = $1;
-- weight: 1
SELECT order_id, total_amount FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10;
"""
NEW = """-- weight: 3
SELECT order_id, gift_note, total_amount FROM orders WHERE order_id = $1;
-- weight: 1
SELECT order_id, total_amount FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10;
"""


def test_two_files_side_by_side_name_the_statement_that_broke_each(tmp_path):
    for name, text in (("up.sql", MIGRATION), ("old.sql", OLD), ("new.sql", NEW)):
        (tmp_path / name).write_text(text)
    versions = f"{tmp_path / 'old.sql'},{tmp_path / 'new.sql'}"
    result = run(tmp_path / "up.sql", app_versions=versions, app_queries="workload", **FAST)
    broken = {entry["name"].split("·")[0]: entry for entry in summary(result)["compatibility"]}
    # current reads the column the migration drops: fine before, broken by the DROP (statement 3) for good
    old = broken.pop("current:SELECT orders")
    assert "currency" in old["query"] and old["sqlstate"] == "42703"
    assert old["broken_by_statement"] == 3 and "DROP COLUMN currency" in old["broken_by_sql"]
    assert old["recovered"] is False
    # new reads the column the migration adds: broken before it started, working once ADD COLUMN ran
    new = broken.pop("new:SELECT orders")
    assert "gift_note" in new["query"] and new["sqlstate"] == "42703"
    assert new["phase"] == "before" and new["recovered"] is True and new["broken_by_statement"] is None
    assert not broken  # the statement both versions share never failed
    work = result.workload
    dropped = result.statements.set_index("index").loc[3, "end"]
    late = work[work.actual_start > dropped + 0.05]
    assert set(work.version) == {"current", "new"} and len(late) > 20
    assert set(late[~late.ok].version) == {"current"} and set(late[~late.ok].sqlstate) == {"42703"}
    assert late[late.version == "new"].ok.all()
    assert not work[(work.version == "new") & (work.end < result.manifest.migration_start)].ok.all()


def test_a_users_schema_takes_two_workload_files_as_its_application():
    config = RehearsalConfig(profile="prod.json", app_versions="old.csv,new.csv", app_queries="workload")
    assert config.replays and config.app_rate > 0  # the user's own traffic, at the default rate
    with pytest.raises(BadInput, match="built-in order service"):
        RehearsalConfig(profile="prod.json", app_versions="current,new")


def test_an_application_error_without_sqlstate_is_named_not_a_crash():
    from rehearse.verdicts.rules_dynamic import condition

    assert condition(None) == "no SQLSTATE (client-side)" and condition("42703").startswith("42703 (undefined_")
