"""The incident notebooks' shared helpers: dry-run check, dataset description, side-by-side tables."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.errors import BadInput
from common.paths import project_root
from rehearse import run
from rehearse.present import incidents

FAST = dict(scale=0.01, seed=4242, rate=50, clients=4, warmup=0.3, cooldown=0.3)


def write(folder, up: str, down: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "up.sql").write_text(up)
    if down is not None:
        (folder / "down.sql").write_text(down)
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three tiny rehearsals: a column added (with its rollback checked), a failing type change, a rename."""
    root = tmp_path_factory.mktemp("migrations")
    added = write(root / "added", "ALTER TABLE orders ADD COLUMN note text;", "ALTER TABLE orders DROP COLUMN note;")
    failing = write(root / "failing", "ALTER TABLE orders ALTER COLUMN order_status TYPE int USING order_status::int;")
    renamed = write(root / "renamed", "ALTER TABLE orders RENAME COLUMN order_status TO status;")
    return {
        "added": run(added, rollback=True, **FAST),
        "failing": run(failing, **FAST),
        "renamed": run(renamed, **FAST),
    }


def test_failure_names_the_statement_and_sqlstate(runs):
    assert incidents.failure(runs["added"]) is None
    failed = incidents.failure(runs["failing"])
    assert failed["index"] == 1 and failed["kind"] == "ALTER TABLE" and failed["sqlstate"] == "22P02"


def test_lock_table_keeps_the_strongest_lock_per_statement_and_table(runs):
    table = incidents.lock_table({"added": runs["added"], "renamed": runs["renamed"]})
    assert list(table.columns) == ["variant", "#", "phase", "statement", "table", "lock", "blocks", "held ms"]
    assert list(dict.fromkeys(table["variant"])) == ["added", "renamed"]  # the order given
    up = table[(table["variant"] == "added") & (table["phase"] == "up")]
    assert up[["table", "lock", "blocks"]].values.tolist() == [["orders", "AccessExclusiveLock", "reads and writes"]]
    assert set(table[table["variant"] == "added"]["phase"]) == {"up", "down"}
    assert not table.duplicated(["variant", "#", "table"]).any()
    assert table["held ms"].dtype == float and (table["held ms"] >= 0).all()


def test_by_phase_puts_variants_side_by_side(runs):
    rates = incidents.by_phase({"added": runs["added"], "renamed": runs["renamed"]}, "error_rate")
    assert list(rates.index) == ["before", "during", "after"] and list(rates.columns) == ["added", "renamed"]
    assert rates.loc["after", "added"] == 0 and rates.loc["after", "renamed"] > 0.5  # the old app's 42703


def test_state_table_says_what_was_left(runs):
    state = incidents.state_table({"failing": runs["failing"], "renamed": runs["renamed"]})
    failing = state[state["variant"] == "failing"]
    assert failing["detail"].iloc[0].startswith("failed at #1 ALTER TABLE: 22P02")
    assert failing["detail"].iloc[1] == "none: the schema is as before"
    renamed = state[(state["variant"] == "renamed") & (state["what"] == "schema change left")]
    assert any(line.startswith("column public.orders.status: added") for line in renamed["detail"])


def test_rollback_table_reports_the_round_trip_or_that_none_was_tested(runs):
    table = incidents.rollback_table({"added": runs["added"], "renamed": runs["renamed"]})
    assert table.loc["restored (schema and data)", "added"] == True  # noqa: E712 (an object column)
    assert table.loc["rows lost", "added"] == 0 and table.loc["up again after down", "added"] == "ok"
    assert table.loc["tested", "renamed"] == False  # noqa: E712


def test_check_plan_returns_the_plan_or_the_rejection(tmp_path):
    ok = incidents.check_plan(write(tmp_path / "ok", "ALTER TABLE orders ADD COLUMN note text;"))
    assert ok.ok and "public.orders:AccessExclusiveLock" in ok.text
    bad = incidents.check_plan(incidents.MIGRATIONS / "04_backfill_single_vs_batched" / "seed_as_written")
    assert not bad.ok and bad.text.startswith("rejected before anything ran:") and "LIMIT" in bad.text


def test_locate_reads_paths_from_here_or_from_the_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        incidents.locate("migrations/04_backfill_single_vs_batched/risky")
        == project_root() / "migrations/04_backfill_single_vs_batched/risky"
    )
    (tmp_path / "mine.sql").write_text("SELECT 1;")
    assert incidents.locate("mine.sql") == tmp_path.joinpath("mine.sql").relative_to(tmp_path)
    assert incidents.locate(tmp_path / "mine.sql") == tmp_path / "mine.sql"


def test_describe_puts_each_kind_of_dirt_on_its_table():
    manifest = {
        "rows": {"customers": 10, "orders": 100, "order_items": 250},
        "table_bytes": {"customers": 2e6, "orders": 3e6, "order_items": 5e6},
        "dirt_achieved": {"orphan_items": 3, "null_currency": 0, "duplicate_emails": 1200},
    }
    table = incidents.describe(SimpleNamespace(manifest=manifest))
    assert table.loc["order_items", "dirt"] == "3 orphan items"
    assert table.loc["customers", "dirt"] == "1,200 duplicate emails"
    assert table.loc["orders", "dirt"] == "" and table.loc["orders", "MB"] == 3.0
    assert table.index.name == "table"


def test_config_finds_file_options_as_locate_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    datafix = "migrations/02_foreign_key_on_inconsistent_data/datafix.sql"
    config = incidents.config(scale=0.01, setup=datafix, down=None, app_queries="workload", rollback=True)
    assert config.setup == str(project_root() / datafix)
    assert config.down is None and config.app_queries == "workload" and config.rollback
    with pytest.raises(BadInput, match="unknown option"):
        incidents.config(scael=0.01)


def test_config_from_takes_the_notebook_parameters_that_are_config_fields(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    datafix = "migrations/02_foreign_key_on_inconsistent_data/datafix.sql"
    namespace = {
        "path": "migrations/04_backfill_single_vs_batched/risky",  # what to rehearse: not a config field
        "max_risk": "red",  # the gate's: not a config field
        "scale": 0.01,
        "rate": 50.0,
        "rollback": True,
        "setup": datafix,
        "fail_at": 2,
        "In": [""],  # IPython's own globals are not parameters
        "rh": object(),
    }
    config = incidents.config_from(namespace)
    assert (config.scale, config.rate, config.rollback, config.fail_at) == (0.01, 50.0, True, 2)
    assert config.setup == str(project_root() / datafix)
    assert config.seed == 42 and config.down is None  # defaults where the notebook has no parameter
    assert incidents.config_from(namespace, fail_at=None, app_queries="workload").fail_at is None
    with pytest.raises(BadInput, match="rate"):
        incidents.config_from({"rate": -1.0})
