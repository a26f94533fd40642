"""Reading migrations: splitting by the parser, transaction units, file layouts, expected locks, bad input."""

from __future__ import annotations

import json

import pytest

from common.errors import BadInput
from rehearse.sql import locks
from rehearse.sql.expected import ExpectedLock, expected_locks
from rehearse.sql.locks import CONFLICTS, MODES, blocks_reads, blocks_writes, strongest
from rehearse.sql.migration import load, plan, split

TRICKY = """\
-- a comment; with a semicolon
SELECT 'a;b' AS "x;y";  /* block; comment */
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  NEW.note := 'done; really';
  RETURN NEW;
END
$body$;

UPDATE orders
   SET status = 'paid'
 WHERE id = 1
"""


def write(folder, files: dict[str, str]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def units(migration) -> list[list[int]]:
    return [[s.index for s in unit] for unit in migration.transactions()]


def locks_of(sql: str) -> set[str]:
    return {str(lock) for lock in expected_locks(sql)}


# --- splitting ---------------------------------------------------------------------------------------


def test_split_keeps_strings_comments_and_dollar_bodies_whole():
    stmts = split(TRICKY, "tricky.sql")
    assert [s.kind for s in stmts] == ["SELECT", "CREATE FUNCTION", "UPDATE"]
    assert stmts[0].sql == "SELECT 'a;b' AS \"x;y\""
    assert "'done; really'" in stmts[1].sql and stmts[1].sql.endswith("$body$")
    assert stmts[2].sql == "UPDATE orders\n   SET status = 'paid'\n WHERE id = 1"


def test_split_reports_lines_indexes_and_source():
    stmts = split(TRICKY, "tricky.sql")
    assert [s.line for s in stmts] == [2, 3, 10]
    assert [s.index for s in stmts] == [1, 2, 3]
    assert {s.source for s in stmts} == {"tricky.sql"}


def test_split_drops_trailing_comment_of_last_statement():
    (stmt,) = split("SELECT 1 -- no semicolon here\n/* done */\n")
    assert stmt.sql == "SELECT 1"


def test_split_of_nothing_is_empty():
    assert split("-- only a comment\n") == []


# --- transaction units -------------------------------------------------------------------------------


def test_file_statements_share_one_implicit_transaction():
    stmts = split("ALTER TABLE orders ADD COLUMN x int; UPDATE orders SET x = 1;")
    assert [s.transaction for s in stmts] == [1, 1]
    assert all(s.in_transaction_block for s in stmts)


def test_concurrently_runs_alone_and_splits_the_implicit_transaction(tmp_path):
    sql = (
        "ALTER TABLE orders ADD COLUMN x int;\nUPDATE orders SET x = 1;\n"
        "CREATE INDEX CONCURRENTLY orders_x ON orders (x);\nALTER TABLE orders ALTER x SET NOT NULL;\n"
    )
    migration = load(write(tmp_path, {"m.sql": sql}) / "m.sql")
    assert units(migration) == [[1, 2], [3], [4]]
    assert [s.transaction for s in migration.statements] == [1, 1, 0, 2]
    assert migration.statements[2].in_transaction_block is False


def test_explicit_block_is_kept_as_written():
    stmts = split("SELECT 1;\nSTART TRANSACTION;\nUPDATE t SET a = 1;\nCOMMIT;\nSELECT 2;")
    assert [s.kind for s in stmts] == ["SELECT", "BEGIN", "UPDATE", "COMMIT", "SELECT"]
    assert [s.transaction for s in stmts] == [1, 2, 2, 2, 3]


def test_explicit_block_ending_in_rollback_is_one_unit(tmp_path):
    migration = load(write(tmp_path, {"m.sql": "BEGIN; DELETE FROM t; ROLLBACK;"}) / "m.sql")
    assert [[s.kind for s in u] for u in migration.transactions()] == [["BEGIN", "DELETE", "ROLLBACK"]]


@pytest.mark.parametrize(
    "sql",
    [
        "VACUUM orders",
        "VACUUM (FULL) orders",
        "DROP INDEX CONCURRENTLY orders_x",
        "REINDEX INDEX CONCURRENTLY i",
        "REINDEX DATABASE app",
        "CREATE DATABASE x",
        "DROP DATABASE x",
        "ALTER SYSTEM SET work_mem = '8MB'",
        "CREATE TABLESPACE ts LOCATION '/tmp'",
        "DROP TABLESPACE ts",
        "CLUSTER",
        "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
    ],
)
def test_statements_that_cannot_run_in_a_transaction_block(sql):
    (stmt,) = split(sql)
    assert (stmt.in_transaction_block, stmt.transaction) == (False, 0)


@pytest.mark.parametrize(
    "sql",
    [
        "ANALYZE orders",
        "ALTER TYPE mood ADD VALUE 'meh'",
        "CLUSTER orders USING i",
        "REINDEX TABLE orders",
        "CREATE INDEX i ON orders (a)",
    ],
)
def test_statements_that_may_run_in_a_transaction_block(sql):
    (stmt,) = split(sql)
    assert stmt.in_transaction_block and stmt.transaction == 1


# --- layouts -----------------------------------------------------------------------------------------


def test_single_file_is_named_by_its_stem(tmp_path):
    migration = load(write(tmp_path, {"003_backfill.sql": "SELECT 1;"}) / "003_backfill.sql")
    assert (migration.name, migration.down) == ("003_backfill", None)
    assert migration.sources == (str(tmp_path / "003_backfill.sql"),)


def test_up_down_folder(tmp_path):
    folder = write(
        tmp_path / "add_col", {"up.sql": "ALTER TABLE t ADD COLUMN c int;", "down.sql": "ALTER TABLE t DROP COLUMN c;"}
    )
    migration = load(folder)
    assert migration.name == "add_col"
    assert migration.statements[0].source == str(folder / "up.sql")
    assert migration.down.statements[0].sql == "ALTER TABLE t DROP COLUMN c"
    assert migration.down.statements[0].index == 1 and migration.down.statements[0].transaction == 1


def test_explicit_down_overrides_the_folder(tmp_path):
    folder = write(tmp_path / "m", {"up.sql": "SELECT 1;", "down.sql": "SELECT 2;"})
    other = write(tmp_path, {"undo.sql": "SELECT 3;"}) / "undo.sql"
    assert load(folder, down=other).down.statements[0].sql == "SELECT 3"


def test_flyway_orders_versions_numerically(tmp_path):
    folder = write(
        tmp_path / "fw",
        {
            "V10__ten.sql": "SELECT 10;",
            "V2__two.sql": "SELECT 2;",
            "V1__one.sql": "SELECT 1;",
            "V1.1__one_one.sql": "SELECT 11;",
            "V3_0__three.sql": "SELECT 3;",
            "R__views.sql": "SELECT 99;",
            "V4__.txt": "not a migration",
            "V5__x.sql": "SELECT 5;",
            "V6__x.sql": "SELECT 6;",
            "V7__x.sql": "SELECT 7;",
            "V8__x.sql": "SELECT 8;",
            "V9__x.sql": "SELECT 9;",
            "V4__x.sql": "SELECT 4;",
        },
    )
    migration = load(folder)
    assert [s.sql for s in migration.statements] == [f"SELECT {n}" for n in (1, 11, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99)]
    assert migration.name == "fw" and len(migration.sources) == 12


def test_flyway_files_are_separate_transactions_and_undo_runs_newest_first(tmp_path):
    folder = write(
        tmp_path / "fw",
        {
            "V1__a.sql": "SELECT 1; SELECT 2;",
            "V2__b.sql": "SELECT 3;",
            "U1__a.sql": "SELECT -1;",
            "U2__b.sql": "SELECT -2;",
        },
    )
    migration = load(folder)
    assert [s.transaction for s in migration.statements] == [1, 1, 2]
    assert [s.index for s in migration.statements] == [1, 2, 3]
    assert [s.sql for s in migration.down.statements] == ["SELECT -2", "SELECT -1"]


# --- expected locks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("ALTER TABLE orders ADD COLUMN x int", {"public.orders:AccessExclusiveLock"}),
        (
            "ALTER TABLE orders ALTER COLUMN transaction_id TYPE bigint USING transaction_id::bigint",
            {"public.orders:AccessExclusiveLock"},
        ),
        ("CREATE INDEX orders_x ON orders (x)", {"public.orders:ShareLock"}),
        ("CREATE INDEX CONCURRENTLY orders_x ON orders (x)", {"public.orders:ShareUpdateExclusiveLock"}),
        (
            "ALTER TABLE order_items ADD CONSTRAINT fk FOREIGN KEY (order_id) REFERENCES orders (id)",
            {"public.order_items:ShareRowExclusiveLock", "public.orders:ShareRowExclusiveLock"},
        ),
        (
            "ALTER TABLE order_items ADD CONSTRAINT fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID",
            {"public.order_items:ShareRowExclusiveLock", "public.orders:ShareRowExclusiveLock"},
        ),
        ("ALTER TABLE order_items VALIDATE CONSTRAINT fk", {"public.order_items:ShareUpdateExclusiveLock"}),
        ("ALTER TABLE orders ADD CONSTRAINT c CHECK (amount > 0) NOT VALID", {"public.orders:AccessExclusiveLock"}),
        ("ALTER TABLE orders ALTER COLUMN x SET STATISTICS 500", {"public.orders:ShareUpdateExclusiveLock"}),
        ("ALTER TABLE orders SET (fillfactor = 70)", {"public.orders:ShareUpdateExclusiveLock"}),
        ("ALTER TABLE orders VALIDATE CONSTRAINT c, ADD COLUMN y int", {"public.orders:AccessExclusiveLock"}),
        (
            "ALTER TABLE orders ATTACH PARTITION orders_2024 FOR VALUES FROM (1) TO (2)",
            {"public.orders:ShareUpdateExclusiveLock", "public.orders_2024:AccessExclusiveLock"},
        ),
        ("ALTER TABLE orders DISABLE TRIGGER ALL", {"public.orders:ShareRowExclusiveLock"}),
        (
            "DROP TABLE orders, billing.events",
            {"public.orders:AccessExclusiveLock", "billing.events:AccessExclusiveLock"},
        ),
        ("DROP INDEX orders_x", {"public.orders_x:AccessExclusiveLock"}),
        ("DROP INDEX CONCURRENTLY orders_x", {"public.orders_x:ShareUpdateExclusiveLock"}),
        ("UPDATE orders SET x = 1", {"public.orders:RowExclusiveLock"}),
        ("DELETE FROM orders WHERE id = 1", {"public.orders:RowExclusiveLock"}),
        (
            "INSERT INTO orders (id) SELECT id FROM staging.o",
            {"public.orders:RowExclusiveLock", "staging.o:AccessShareLock"},
        ),
        (
            "UPDATE orders o SET x = c.y FROM customers c WHERE c.id = o.customer_id",
            {"public.orders:RowExclusiveLock", "public.customers:AccessShareLock"},
        ),
        (
            "WITH done AS (SELECT id FROM payments) DELETE FROM orders WHERE id IN (SELECT id FROM done)",
            {"public.orders:RowExclusiveLock", "public.payments:AccessShareLock"},
        ),
        ("SELECT count(*) FROM orders", {"public.orders:AccessShareLock"}),
        (
            "SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id FOR UPDATE OF o",
            {"public.orders:RowShareLock", "public.customers:AccessShareLock"},
        ),
        ("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE", {"public.orders:ShareRowExclusiveLock"}),
        ("LOCK TABLE orders", {"public.orders:AccessExclusiveLock"}),
        ("TRUNCATE orders", {"public.orders:AccessExclusiveLock"}),
        ("VACUUM FULL orders", {"public.orders:AccessExclusiveLock"}),
        ("VACUUM orders", {"public.orders:ShareUpdateExclusiveLock"}),
        ("ANALYZE orders", {"public.orders:ShareUpdateExclusiveLock"}),
        ("CLUSTER orders USING orders_pkey", {"public.orders:AccessExclusiveLock"}),
        ("REINDEX INDEX orders_x", {"public.orders_x:AccessExclusiveLock"}),
        ("REINDEX TABLE orders", {"public.orders:ShareLock"}),
        ("REINDEX TABLE CONCURRENTLY orders", {"public.orders:ShareUpdateExclusiveLock"}),
        ("ALTER TABLE orders RENAME TO orders_old", {"public.orders:AccessExclusiveLock"}),
        ("ALTER TABLE orders RENAME COLUMN status TO order_status", {"public.orders:AccessExclusiveLock"}),
        ("ALTER INDEX orders_x RENAME TO orders_y", {"public.orders_x:ShareUpdateExclusiveLock"}),
        (
            "CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION f()",
            {"public.orders:ShareRowExclusiveLock"},
        ),
        ("COMMENT ON TABLE orders IS 'x'", {"public.orders:ShareUpdateExclusiveLock"}),
        ("COMMENT ON COLUMN orders.x IS 'x'", {"public.orders:ShareUpdateExclusiveLock"}),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY daily", {"public.daily:ExclusiveLock"}),
        (
            "CREATE TABLE refunds (id int, order_id int REFERENCES orders (id))",
            {"public.refunds:AccessExclusiveLock", "public.orders:ShareRowExclusiveLock"},
        ),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", set()),
    ],
)
def test_expected_locks(sql, expected):
    assert locks_of(sql) == expected


def test_statement_carries_its_expected_locks():
    (stmt,) = split('ALTER TABLE Sales."Orders" ADD COLUMN x int')
    assert stmt.expected_locks == (ExpectedLock("sales.Orders", "AccessExclusiveLock"),)


def test_conflict_table_is_symmetric():
    for a in MODES:
        for b in MODES:
            assert (b in CONFLICTS[a]) == (a in CONFLICTS[b]), (a, b)


def test_conflict_table_extremes():
    assert CONFLICTS["AccessExclusiveLock"] == frozenset(MODES)
    assert CONFLICTS["AccessShareLock"] == {"AccessExclusiveLock"}
    assert "ShareLock" not in CONFLICTS["ShareLock"]  # two CREATE INDEX can run side by side
    assert "ShareUpdateExclusiveLock" in CONFLICTS["ShareUpdateExclusiveLock"]


def test_reads_and_writes_blocked():
    assert [m for m in MODES if blocks_reads(m)] == ["AccessExclusiveLock"]
    assert [m for m in MODES if blocks_writes(m)] == [
        "ShareLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    ]


def test_strongest_and_unknown_modes():
    assert strongest(["RowExclusiveLock", "ShareLock", "AccessShareLock"]) == "ShareLock"
    assert strongest([]) is None
    assert not locks.conflicts("SIReadLock", "AccessExclusiveLock")
    with pytest.raises(ValueError, match="unknown lock mode"):
        locks.conflicts("RowLock", "ShareLock")


# --- plan --------------------------------------------------------------------------------------------


def test_plan_text_and_dict(tmp_path):
    folder = write(
        tmp_path / "m",
        {
            "up.sql": "ALTER TABLE orders ADD COLUMN x int;\nCREATE INDEX CONCURRENTLY i ON orders (x);\n",
            "down.sql": "ALTER TABLE orders DROP COLUMN x;",
        },
    )
    result = plan(folder)
    text = result.to_text()
    assert "own (cannot run in a transaction)" in text
    assert "public.orders:ShareUpdateExclusiveLock" in text and "down:" in text
    data = json.loads(json.dumps(result.to_dict()))
    assert data["transactions"] == [[1], [2]]
    assert data["statements"][1]["expected_locks"] == [
        {"relation": "public.orders", "mode": "ShareUpdateExclusiveLock"}
    ]
    assert data["down"]["statements"][0]["kind"] == "ALTER TABLE"


# --- bad input: one line each, naming where ---------------------------------------------------------


def bad(call, *args, **kwargs) -> str:
    with pytest.raises(BadInput) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_syntax_error_names_file_statement_line_and_position(tmp_path):
    path = write(tmp_path, {"up.sql": "SELECT 1;\n\nSELECT 2;\n  SELEC 3;\n"}) / "up.sql"
    assert bad(load, path) == f'{path}: statement 3 (line 4, position 3): syntax error at or near "SELEC"'


def test_update_limit_is_caught_before_anything_runs(tmp_path):
    seed = (
        "ALTER TABLE orders ADD COLUMN order_status_v2 VARCHAR(20);\n"
        "UPDATE orders SET order_status_v2 = order_status\nWHERE order_status_v2 IS NULL\nLIMIT 1000;\n"
    )
    path = write(tmp_path, {"003.sql": seed}) / "003.sql"
    message = bad(load, path)
    assert message.startswith(f'{path}: statement 2 (line 4, position 1): syntax error at or near "LIMIT"')
    assert "no UPDATE/DELETE … LIMIT" in message


def test_syntax_error_in_down_is_found_by_load(tmp_path):
    folder = write(tmp_path / "m", {"up.sql": "SELECT 1;", "down.sql": "DROP TABLE;"})
    assert "down.sql: statement 1 (line 1, position 11)" in bad(load, folder)


@pytest.mark.parametrize("text", ["", "-- nothing yet\n/* still nothing */\n", ";\n;"])
def test_empty_migration(tmp_path, text):
    path = write(tmp_path, {"m.sql": text}) / "m.sql"
    assert "no SQL statements" in bad(load, path)


def test_missing_path(tmp_path):
    assert str(tmp_path / "nope") in bad(load, tmp_path / "nope")


def test_folder_without_migration_says_what_is_expected(tmp_path):
    folder = write(tmp_path / "m", {"notes.md": "hi"})
    message = bad(load, folder)
    assert "up.sql" in message and "V<version>__<description>.sql" in message


def test_non_sql_file(tmp_path):
    assert "not a .sql file" in bad(load, write(tmp_path, {"m.py": "x"}) / "m.py")


def test_flyway_gap(tmp_path):
    folder = write(tmp_path / "fw", {"V1__a.sql": "SELECT 1;", "V3__c.sql": "SELECT 3;"})
    assert "V2 file is missing" in bad(load, folder)


@pytest.mark.parametrize("names", [("V1__a.sql", "V1__b.sql"), ("V1__a.sql", "V1.0__b.sql")])
def test_flyway_duplicate_version(tmp_path, names):
    folder = write(tmp_path / "fw", {name: "SELECT 1;" for name in names})
    assert "appears twice" in bad(load, folder)


def test_flyway_undo_without_version(tmp_path):
    folder = write(tmp_path / "fw", {"V1__a.sql": "SELECT 1;", "U2__b.sql": "SELECT 2;"})
    assert "no V file" in bad(load, folder)


def test_concurrently_inside_explicit_block():
    message = bad(split, "BEGIN;\nCREATE INDEX CONCURRENTLY i ON orders (x);\nCOMMIT;", "m.sql")
    assert message.startswith("m.sql:2: CREATE INDEX CONCURRENTLY")
    assert "cannot run inside a transaction block; move it out of BEGIN…COMMIT" in message


@pytest.mark.parametrize(
    "sql, words",
    [
        ("BEGIN;\nSELECT 1;", "m.sql:1: BEGIN is never committed"),
        ("SELECT 1;\nCOMMIT;", "m.sql:2: COMMIT without BEGIN"),
        ("BEGIN;\nBEGIN;\nCOMMIT;", "m.sql:2: BEGIN inside the block opened at line 1"),
    ],
)
def test_unbalanced_blocks(sql, words):
    assert bad(split, sql, "m.sql").startswith(words)


def test_no_transaction_directive_runs_each_statement_alone():
    text = (
        "-- rehearse:no-transaction\n-- backfill\nALTER TABLE t ADD COLUMN c int;\nCALL p();\n"
        "BEGIN;\nUPDATE t SET c = 1;\nCOMMIT;\n"
    )
    statements = split(text)
    assert [s.transaction for s in statements[:2]] == [0, 0]
    assert len({s.transaction for s in statements[2:]}) == 1 and statements[2].transaction > 0


def test_directive_after_sql_is_ignored():
    statements = split("ALTER TABLE t ADD COLUMN c int;\n-- rehearse:no-transaction\nCALL p();\n")
    assert all(s.transaction == 1 for s in statements)
