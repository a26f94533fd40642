"""The application's queries against a migrating schema: which break, when, by which statement; and two app
versions side by side through migration 03's expand step and its risky rename."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dbserver import BadInput
from rehearse import run
from rehearse.analysis.summary import summary
from rehearse.measure.compatibility import AppQuery, CompatibilityProbe, read_file, workload_queries
from rehearse.measure.versions import sample_database_sql

MIGRATION_03 = Path(__file__).resolve().parents[1] / "migrations" / "03_incompatible_change_under_traffic"
FAST = dict(scale=0.01, seed=4242, rate=100, clients=4, warmup=1.0, cooldown=0.5)
# As exported from pg_stat_statements: constants normalised to $n, transaction control listed too.
QUERIES = """-- top statements, pg_stat_statements
BEGIN;
SELECT order_id, order_status, total_amount FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2;
UPDATE orders SET order_status = $1, updated_at = now() WHERE order_id = $2;
COMMIT;
SELECT count(*) FROM orders WHERE created_at > now() - interval '1 day';
"""


@pytest.fixture
def queries_file(tmp_path) -> Path:
    path = tmp_path / "queries.sql"
    path.write_text(QUERIES)
    return path


def test_query_file_keeps_the_dml_and_counts_placeholders(queries_file):
    queries = read_file(queries_file)
    assert [q.name for q in queries] == ["queries.sql#1", "queries.sql#2", "queries.sql#3"]
    assert [q.parameters for q in queries] == [2, 2, 0]


def test_workload_queries_get_typed_placeholders():
    place_order = workload_queries("new")[0]
    assert place_order.name == "new:place_order#1" and "%(" not in place_order.sql
    assert (
        "$1::bigint" in place_order.sql and "$4::bigint[]" in place_order.sql and "::bigint[]::" not in place_order.sql
    )
    assert " status," in place_order.sql and "order_status" not in place_order.sql


def test_bad_query_file_is_one_line_before_anything_runs(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT 1;\nSELEC order_status FROM orders;\n")
    # An unreachable server: the query file must be refused before any connection is tried.
    with pytest.raises(BadInput, match=r"bad\.sql: statement 2 \(line 2, position 1\)") as info:
        run(MIGRATION_03 / "risky", app_queries=str(bad), dsn="postgresql://nobody@127.0.0.1:1/x")
    assert "\n" not in str(info.value)
    with pytest.raises(BadInput, match="bogus"):
        run(MIGRATION_03 / "risky", app_versions="current,bogus", dsn="postgresql://nobody@127.0.0.1:1/x")


def test_probe_rolls_back_writes_and_sees_a_rename(server, empty_db, queries_file):
    with server.connect(empty_db) as conn:
        conn.execute(sample_database_sql())
    insert = "INSERT INTO products (sku, name, category, price, created_at) VALUES ('x', 'x', 'x', 1, now())"
    queries = read_file(queries_file) + [AppQuery("insert", insert, 0)]
    probe = CompatibilityProbe(server, empty_db, queries, interval=0.05)
    probe.start()
    time.sleep(0.4)
    with server.connect(empty_db) as conn:
        renamed = time.time()
        conn.execute("ALTER TABLE orders RENAME COLUMN order_status TO status")
        time.sleep(0.4)
        frame = probe.stop()
        assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == 20  # the INSERTs were rolled back
    before, after = frame[frame.t < renamed], frame[frame.start > renamed + 0.05]
    assert before.ok.all()
    failed = after[~after.ok]
    assert set(failed["query"]) == {0, 1} and set(failed.sqlstate) == {"42703"}
    assert after[after["query"].isin([2, 3])].ok.all() and len(after[after["query"] == 3]) > 2


def test_risky_rename_breaks_current_and_names_the_statement(queries_file):
    result = run(MIGRATION_03 / "risky", app_queries=str(queries_file), app_versions="current,new", **FAST)
    broken = {entry["query"]: entry for entry in summary(result)["compatibility"]}
    assert len(broken) == 2 and all("order_status" in sql for sql in broken)
    for entry in broken.values():
        assert entry["sqlstate"] == "42703" and entry["broken_by_statement"] == 1
        assert "RENAME COLUMN" in entry["broken_by_sql"] and entry["phase"] in ("during", "after")
        assert entry["recovered"] is False
    work = result.workload.assign(late=lambda w: w.actual_start > result.statements.tx_end.max())
    assert set(work.version) == {"current", "new"}
    current, new = work[work.late & (work.version == "current")], work[work.late & (work.version == "new")]
    assert not current.ok.any() and set(current.sqlstate) == {"42703"}
    assert new.ok.all() and len(new) > 10


def test_safer_expand_keeps_both_versions_working():
    result = run(MIGRATION_03 / "safer", app_queries="workload", app_versions="current,new", **FAST)
    statements = result.statements.set_index("kind")
    expanded = statements.loc["CREATE TRIGGER", "tx_end"]
    work = result.workload
    after = work[work.actual_start > expanded]
    assert set(after.version) == {"current", "new"} and len(after) > 100
    assert after.ok.all(), after[~after.ok][["version", "kind", "sqlstate", "error"]].drop_duplicates()
    assert not work[work.actual_start < result.manifest.migration_start].query("version == 'new'").ok.all()
    compatibility = summary(result)["compatibility"]
    # Only the new version's queries ever failed: before the expand step, and they recovered.
    assert compatibility and all(entry["name"].startswith("new:") for entry in compatibility)
    assert all(
        entry["phase"] == "before" and entry["recovered"] and entry["broken_by_statement"] is None
        for entry in compatibility
    )
