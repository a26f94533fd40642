"""Replay of the application's own statements: files read, parameters typed from the parse tree, values
drawn from the real database, bad input refused in one line naming file and line."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from common.errors import BadInput
from rehearse.cli import main
from rehearse.measure import transactions as tx
from rehearse.measure.replay import export, sources
from rehearse.measure.replay.app import ReplayApp
from rehearse.measure.workload import Workload, WorkloadConfig
from tests.test_workload import make_shop


@pytest.fixture
def shop(server, empty_db):
    make_shop(server, empty_db)
    return empty_db


@pytest.fixture
def builtin_csv(tmp_path):
    """The built-in app's export with one call per transaction kind."""
    frame = pd.DataFrame(dict(kind=list(tx.CURRENT), service_ms=[1.0] * len(tx.CURRENT)))
    return export.write_csv(export.builtin(frame), tmp_path / "pgss.csv")


def replay(server, dbname, app, seconds=1.5, rate=200):
    work = Workload(server, dbname, WorkloadConfig(rate=rate), apps={"current": app})
    work.start()
    time.sleep(seconds)
    return work.stop()


def test_export_normalised_like_pg_stat_statements():
    query, limit = export.normalise(tx.CURRENT["list_recent_orders"][0])
    assert query.endswith("ORDER BY created_at DESC LIMIT $2") and limit == 10
    query, _ = export.normalise(tx.CURRENT["place_order"][0])
    assert "'pending'" not in query and "$4::bigint[]" in query  # constants → $n, casts kept


def test_builtin_export_replayed_every_kind_ok(server, shop, builtin_csv):
    app = ReplayApp(builtin_csv)
    frame = replay(server, shop, app)
    assert frame.ok.all(), frame[~frame.ok].error.unique()
    assert set(frame.kind) == set(app.statements) and len(app.statements) >= 9
    assert all("·" in kind and kind.split()[0] in ("SELECT", "INSERT", "UPDATE") for kind in frame.kind)
    # the test shop has no billing events: nothing to draw the refund event's values from, so it is skipped
    assert [s["sql"].split()[2] for s in app.skipped] == ["billing_events"]
    place = next(s for s in app.statements.values() if s.sql.startswith("INSERT INTO orders"))
    assert {(x.table, x.column, x.role) for x in place.slots} >= {
        ("products", "product_id", "array"),
        ("order_items", "quantity", "array"),  # i.qty: learned from the order_items statement
        ("orders", "transaction_id", "insert"),
    }


def test_untypable_statement_listed_and_skipped_never_guessed(server, shop, tmp_path):
    path = tmp_path / "app.sql"
    path.write_text("-- weight: 3\nSELECT order_id FROM orders WHERE order_id = $1;\nSELECT $1::int + 1 FROM orders;\n")
    app = ReplayApp(path)
    frame = replay(server, shop, app, seconds=0.5)
    assert [s["reason"] for s in app.skipped] == ["$1 is not compared with, inserted into or assigned to a column"]
    assert app.skipped[0]["where"] == "app.sql line 3"
    assert frame.ok.all() and frame.kind.nunique() == 1


def test_weights_set_the_shares_and_ranges_are_ordered(server, shop, tmp_path):
    path = tmp_path / "app.sql"
    path.write_text(
        "-- weight: 9\nSELECT count(*) FROM orders WHERE created_at BETWEEN $1 AND $2;\n"
        "-- weight: 1\nSELECT * FROM customers WHERE customer_id = $1;\n"
    )
    app = ReplayApp(path)
    assert sources.read(path)[0].calls == 9
    frame = replay(server, shop, app, seconds=2.0)
    share = (frame.kind.str.startswith("SELECT orders")).mean()
    assert frame.ok.all() and 0.8 < share < 0.97
    rng = __import__("numpy").random.default_rng(1)
    between = next(k for k in app.statements if k.startswith("SELECT orders"))
    draws = [app.params(between, rng) for _ in range(50)]
    assert all(d["p1"] <= d["p2"] for d in draws)


def test_insert_keys_are_new_and_writes_applied(server, shop, tmp_path):
    path = tmp_path / "app.sql"
    path.write_text(
        "INSERT INTO customers (customer_id, email, full_name, street, city, country, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, now());"
    )
    frame = replay(server, shop, ReplayApp(path), seconds=1.0)
    assert len(frame) > 50 and frame.ok.all(), frame[~frame.ok].error.unique()  # no 23505: keys are new
    with server.connect(shop) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 500 + len(frame)


def test_read_only_workload_keeps_the_reads(builtin_csv):
    app = ReplayApp(builtin_csv, read_only=True)
    assert app.statements and all(k.startswith("SELECT") for k in app.statements)
    assert not any("FOR UPDATE" in s.sql for s in app.statements.values())
    assert all(s["reason"].startswith("writes") for s in app.skipped)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("pgss.csv", b"\xff\xfe\x00garbage", "pgss.csv line 1: cannot be read"),
        ("pgss.csv", b"query,calls\nSELECT 1,3\nSELEC oops,2\n", "pgss.csv line 3: the statement does not parse"),
        ("app.sql", b"-- weight: 0\nSELECT 1;\n", "app.sql line 1: the calls/weights sum to 0"),
        ("app.sql", b"SELECT 1;\n-- weight: many\nSELECT 2;\n", "app.sql line 3: weight 'many'"),
        ("pgss.json", b'[{"query": "SELECT 1", "calls": 1},\n{"calls": 2}]', "pgss.json entry 2: no query"),
        ("pgss.json", b'{"query": ', "pgss.json line 1: not JSON"),
    ],
)
def test_bad_files_one_line_with_file_and_line(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInput) as info:
        ReplayApp(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_cli_bad_workload_exits_2_before_any_work(tmp_path, capsys):
    path = tmp_path / "pgss.csv"
    path.write_text("query,calls\nSELECT 1,-1\n")
    assert main(["run", "migrations/04_backfill_single_vs_batched/risky", "--workload", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("FAILED: workload file pgss.csv line 2: calls '-1'") and "\n" not in err


def test_unknown_table_refused_naming_the_line(server, shop, tmp_path):
    path = tmp_path / "app.json"
    path.write_text(json.dumps([{"query": "SELECT 1", "calls": 1}, {"query": "SELECT * FROM invoices", "calls": 1}]))
    with pytest.raises(BadInput, match=r"app.json entry 2: table invoices is not in the schema"):
        replay(server, shop, ReplayApp(path), seconds=0.1)


def test_json_values_drawn_from_the_column_are_sent_back_as_json(server, empty_db, tmp_path):
    with server.connect(empty_db) as conn:
        conn.execute("CREATE TABLE docs (id bigint PRIMARY KEY, body jsonb NOT NULL, meta json)")
        conn.execute("""INSERT INTO docs SELECT i, jsonb_build_object('n', i), '[1, {"a": 2}]'
                          FROM generate_series(1, 50) i""")
        conn.commit()
    path = tmp_path / "app.sql"
    path.write_text("INSERT INTO docs (id, body, meta) VALUES ($1, $2, $3);")
    frame = replay(server, empty_db, ReplayApp(path), seconds=1.0, rate=50)
    assert len(frame) > 20 and frame.ok.all(), frame[~frame.ok].error.unique()  # was: cannot adapt type 'dict'
