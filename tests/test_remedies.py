"""Measured remedies: each mechanical rewrite parses, and the runnable ones, run by the engine as the rewritten
migration file, reach the end schema (and data) the original reaches."""

from __future__ import annotations

import math

import pglast
import pytest

import datagen
import dbserver
from rehearse import run
from rehearse.analysis.summary import summary
from rehearse.measure import state
from rehearse.measure.executor import MigrationExecutor
from rehearse.present.release.page import html
from rehearse.sql.migration import split
from rehearse.sql.remedies import remedies, tables_to_batch
from rehearse.sql.remedy_batches import TableFacts, sizes
from rehearse.sql.remedy_file import rewritten
from rehearse.verdicts.remedies import price

ORDERS = {"public.orders": TableFacts("order_id", 100_000)}
TINY = {"public.orders": TableFacts("order_id", 10_000)}  # the template at scale 0.001
ORIGINAL = """ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders (order_id);
ALTER TABLE orders ADD CHECK (total_amount >= 0);
CREATE INDEX orders_status_idx ON orders (order_status);
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
UPDATE orders o SET order_status = upper(o.order_status) WHERE o.order_status <> 'x' OR o.currency IS NULL;
"""


def kinds(sql: str, facts=None) -> list[str]:
    return [r.kind for r in remedies(sql, facts)]


def test_an_index_build_becomes_concurrently_and_keeps_what_it_builds():
    (fix,) = remedies("CREATE UNIQUE INDEX IF NOT EXISTS i ON public.t (a, lower(b)) WHERE c > 0")
    assert fix.runnable and fix.kind == "concurrently"
    (index,) = (raw.stmt for raw in pglast.parse_sql(fix.sql))
    assert index.concurrent and index.unique and index.if_not_exists and index.whereClause is not None
    assert kinds("CREATE INDEX CONCURRENTLY i ON t (a)") == []


def test_a_foreign_key_or_check_is_added_not_valid_then_validated_under_its_own_name():
    (fix,) = remedies("ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders (order_id)")
    assert fix.statements == (
        "ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) "
        "REFERENCES orders (order_id) NOT VALID",
        "ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_fkey",
    )
    (fix,) = remedies("ALTER TABLE orders ADD CONSTRAINT positive CHECK (total_amount >= 0), ADD COLUMN z int")
    assert fix.statements[0].endswith("ADD CONSTRAINT positive CHECK (total_amount >= 0) NOT VALID")
    assert "ADD COLUMN z" in fix.statements[0] and fix.statements[1].endswith("VALIDATE CONSTRAINT positive")
    assert kinds("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID") == []


def test_set_not_null_goes_through_a_validated_check_which_is_dropped_after():
    (fix,) = remedies("ALTER TABLE public.orders ALTER COLUMN currency SET NOT NULL")
    assert [s.split(" ", 4)[3] for s in fix.statements] == ["ADD", "VALIDATE", "ALTER", "DROP"]
    assert "CHECK (currency IS NOT NULL) NOT VALID" in fix.statements[0]
    assert all(s.startswith("ALTER TABLE public.orders ") for s in fix.statements)


def test_an_update_becomes_keyed_batches_at_three_sizes_from_the_rows():
    sql = "UPDATE orders o SET order_status = 'x' WHERE o.currency IS NULL OR o.total_amount < 0 RETURNING o.order_id"
    assert tables_to_batch(sql) == ["public.orders"] and sizes(100_000) == [1000, 5000, 20000]
    fixes = remedies(sql, ORDERS)
    assert [f.kind for f in fixes] == ["batches-1000", "batches-5000", "batches-20000"]
    create, call, drop = fixes[0].statements
    assert "(o.currency IS NULL OR o.total_amount < 0) AND (o.order_id >= _rehearse_from" in create
    assert "RETURNING" not in create and "COMMIT;" in create
    assert call == "CALL rehearse_remedy_batches(1000)" and drop.startswith("DROP PROCEDURE")
    pglast.parse_sql(fixes[0].sql)
    assert kinds(sql) == []  # no facts: no key known, nothing mechanical
    assert kinds(sql, {"public.orders": TableFacts(None, 10)}) == []
    assert kinds("UPDATE orders SET order_id = order_id + 1", ORDERS) == []  # moving keys would be batched twice


def test_a_type_change_gets_an_outline_written_not_run_that_parses():
    (fix,) = remedies("ALTER TABLE orders ALTER COLUMN transaction_id TYPE bigint USING transaction_id::bigint")
    assert fix.kind == "expand-contract" and not fix.runnable
    assert "ADD COLUMN transaction_id_new bigint" in fix.sql and "CAST(new.transaction_id AS bigint)" in fix.sql
    pglast.parse_sql(fix.sql)
    assert kinds("ALTER TABLE orders ADD COLUMN note text") == [] and kinds("DROP TABLE x") == []


def test_the_rewritten_file_commits_around_the_rewrite_and_keeps_the_rest():
    migration = _migration("SET lock_timeout = '2s';\nCREATE INDEX i ON orders (note);\nALTER TABLE orders ADD x int;")
    (fix,) = remedies(migration.statements[1].sql)
    file = rewritten(migration, 2, fix.statements, "a remedy")
    assert file.text.startswith("-- rehearse:no-transaction\n-- a remedy\n")
    ran = file.migration("m", "m.sql").statements
    assert [s.kind for s in ran] == ["BEGIN", "SET", "COMMIT", "CREATE INDEX", "BEGIN", "ALTER TABLE", "COMMIT"]
    assert (file.first, file.count) == (4, 1) and ran[3].transaction == 0 and not ran[3].in_transaction_block


def test_the_page_escapes_the_remedies():
    evil = "<img src=x onerror=alert(1)>"
    figures = dict(strongest_lock=evil, total_ms=1.0, outcome=evil, verdict="red")
    found = dict(original=figures, rewrites=[dict(kind=evil, title=evil, file=evil, runnable=False, sql=evil)])
    statement = dict(index=1, sql="x", source=evil, line=1, remedies=found)
    release = dict(name="r", decision="no-go", why="w", window=dict(ms=1.0, low_ms=0.5, high_ms=2.0))
    page = html(release | dict(migrations=[dict(name="m", run_id=None, statements=[statement])]), b"png")
    assert "Measured remedies" in page and "<img src=x" not in page and page.count("&lt;img src=x") >= 5


@pytest.fixture(scope="module")
def template(server):
    return datagen.build(scale=0.001, seed=42, server=server, progress=False).name  # the one test_review uses


def _migration(text: str):
    from rehearse.sql.migration import Migration

    return Migration("m", tuple(split(text, "m.sql")), None, ("m.sql",))


def _end_state(server, template: str, migration) -> tuple[dict, list]:
    """Run `migration` as the engine does on a fresh copy: its records, schema, and the orders' statuses."""
    with dbserver.databases.clone(server, template) as scratch:
        executor = MigrationExecutor(server, scratch)
        try:
            records = executor.run(migration)
        finally:
            executor.close()
        with server.connect(scratch) as conn:
            statuses = conn.execute("SELECT md5(string_agg(order_status, ',' ORDER BY order_id)) FROM orders")
            return [r.status for r in records], state.schema(conn), statuses.fetchone()[0]


def test_every_runnable_rewrite_reaches_the_original_end_schema_and_rows(server, template):
    original = _migration(ORIGINAL)
    remedied = original
    for statement in original.statements:  # each replaced where it now stands (BEGIN/COMMIT shift the numbers)
        fix = [r for r in remedies(statement.sql, TINY) if r.runnable][-1]  # batches: the fewest (5)
        index = next(s.index for s in remedied.statements if s.sql == statement.sql)
        remedied = rewritten(remedied, index, fix.statements, "all").migration("fixed", "fixed.sql")
    assert [s.sql for s in remedied.statements if s.kind == "CALL"] == ["CALL rehearse_remedy_batches(2000)"]
    ran, schema, rows = _end_state(server, template, original)
    ran_fixed, schema_fixed, rows_fixed = _end_state(server, template, remedied)
    assert set(ran) == {"ok"} and set(ran_fixed) == {"ok"}
    assert schema_fixed == schema and rows_fixed == rows
    assert "public.orders.orders_total_amount_check" in schema["constraints"]  # validated: no "(NOT VALID)"
    assert not any(
        "NOT VALID" in c or "INVALID" in c for c in [*schema["constraints"].values(), *schema["indexes"].values()]
    )


def test_a_batched_update_holds_its_locks_once_per_committed_batch_not_for_the_whole_call(server, template, tmp_path):
    # Each batch sleeps 0.1 s once (an initplan), so the 10 ms sampler sees every transaction; the first one also
    # reads min/max, a lock the later batches never take again: it goes with the first COMMIT. The application
    # adds no customers, so the batches are the template's.
    sql = "UPDATE customers SET full_name = full_name WHERE (SELECT pg_sleep(0.1)::text) = ''"
    with server.connect(template) as conn:
        low, high, rows = conn.execute("SELECT min(customer_id), max(customer_id), count(*) FROM customers").fetchone()
    fix = remedies(sql, {"public.customers": TableFacts("customer_id", rows)})[-1]  # the fewest batches (about 5)
    batches = math.ceil((high - low + 1) / int(fix.kind.removeprefix("batches-")))
    file = rewritten(_migration(sql + ";"), 1, fix.statements, "batched")
    (tmp_path / "batched.sql").write_text(file.text)
    result = run(tmp_path / "batched.sql", scale=0.001, seed=42, rate=50, clients=2, warmup=0.3, cooldown=0.3)
    data = summary(result)
    call = next(s for s in data["statements"] if s["kind"] == "CALL")
    assert call["strongest_lock"] == "RowExclusiveLock" and call["duration_ms"] >= batches * 100
    assert call["lock_hold_count"] == batches
    assert call["lock_hold_ms"] < 2.5 * call["duration_ms"] / batches  # one batch's hold, not the whole CALL
    steps = [s for s in data["statements"] if file.first <= s["index"] < file.first + file.count]
    figures = price(data, steps, result)
    assert figures["lock_holds"] == batches and figures["lock_hold_ms"] == call["lock_hold_ms"]
