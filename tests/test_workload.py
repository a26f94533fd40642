"""The synthetic application against a real server: open-loop schedule, queueing counted, errors recorded."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rehearse.measure.workload import COLUMNS, DEFAULT_MIX, Workload, WorkloadConfig

SCHEMA = Path(__file__).resolve().parents[1] / "datagen"

# A few thousand rows with generate_series: enough for the app, independent of datagen's generators.
FILL = """
INSERT INTO customers (email, full_name, street, city, country, created_at)
  SELECT 'c' || g || '@example.com', 'Customer ' || g, g || ' Main St', 'Springfield', 'US',
         now() - g * interval '1 hour' FROM generate_series(1, 500) g;
INSERT INTO products (sku, name, category, price, created_at)
  SELECT 'SKU-' || g, 'Product ' || g, 'misc', 1 + g % 97, now() FROM generate_series(1, 100) g;
INSERT INTO orders (customer_id, order_status, transaction_id, total_amount, currency, created_at, updated_at)
  SELECT 1 + g % 500, 'delivered', (100000000000 + g)::text, 10 + g % 90, 'EUR',
         now() - g * interval '1 minute', now() - g * interval '1 minute' FROM generate_series(1, 3000) g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
  SELECT 1 + g % 3000, 1 + g % 100, 1 + g % 3, 5 FROM generate_series(1, 6000) g;
INSERT INTO payments (order_id, method, status, amount, transaction_id, created_at)
  SELECT order_id, 'card', 'captured', total_amount, transaction_id, created_at FROM orders;
ANALYZE;
"""


def make_shop(server, dbname: str) -> None:
    """The order-service schema with a small dataset in `dbname`."""
    with server.connect(dbname) as conn:
        for name in ("schema_tables.sql", "schema_constraints.sql"):
            conn.execute((SCHEMA / name).read_text())
        conn.execute(FILL)


@pytest.fixture
def shop(server, empty_db):
    make_shop(server, empty_db)
    return empty_db


def run_for(server, dbname, seconds, during=None, **config):
    """Run the workload for `seconds`, calling `during(conn)` on another connection after 0.3 s."""
    work = Workload(server, dbname, WorkloadConfig(**config))
    work.start()
    if during:
        time.sleep(0.3)
        with server.connect(dbname) as conn:
            during(conn)
    time.sleep(max(0.0, seconds - (time.time() - work._t0)))
    return work, work.stop()


def hold_lock(seconds, mode="ACCESS EXCLUSIVE"):
    """A `during` that locks orders for `seconds`; returns (lock start, lock end) via the list it fills."""
    span = []

    def during(conn):
        with conn.transaction():
            conn.execute(f"LOCK TABLE orders IN {mode} MODE")
            span.append(time.time())
            time.sleep(seconds)
        span.append(time.time())

    return during, span


def test_intact_schema_all_ok_and_evenly_spread(server, shop):
    work, frame = run_for(server, shop, 2.0, rate=100)
    assert list(frame.columns) == COLUMNS
    assert 180 <= len(frame) <= 220
    assert frame.ok.all(), frame[~frame.ok].error.unique()
    assert (frame.latency_ms > 0).all() and (frame.service_ms > 0).all()
    assert (frame.latency_ms >= frame.service_ms).all()
    gaps = np.diff(frame.intended_start)
    assert gaps == pytest.approx(0.01, abs=1e-6)
    shares = frame.kind.value_counts(normalize=True)
    for kind, weight in DEFAULT_MIX.items():
        assert abs(shares.get(kind, 0) - weight) < 0.1, (kind, shares)
    assert set(frame.pid) <= work.backend_pids and len(work.backend_pids) == 8
    stats = work.stats
    assert stats["started"] == len(frame) and stats["errors"] == 0
    assert stats["shortfall"] <= 0.02 * stats["intended"] + 1


def test_app_connections_are_labelled(server, shop):
    work = Workload(server, shop, WorkloadConfig(rate=50, clients=2, lock_timeout_ms=1234))
    work.start()
    try:
        with server.connect(shop) as conn:
            rows = conn.execute(
                "SELECT pid, application_name FROM pg_stat_activity "
                "WHERE application_name = 'rehearsal-app' AND datname = current_database()"
            ).fetchall()  # other rehearsals on the same server are not ours
    finally:
        work.stop()
    assert {pid for pid, _ in rows} == work.backend_pids


def test_queueing_behind_a_lock_counts_and_schedule_keeps_pace(server, shop):
    during, span = hold_lock(0.5)
    work, frame = run_for(server, shop, 2.0, during=during, rate=100)
    lock_start, lock_end = span
    assert 180 <= len(frame) <= 220  # the schedule did not slow down while the app was stuck
    assert frame.ok.all()
    waited = frame[(frame.intended_start > lock_start + 0.01) & (frame.intended_start < lock_end - 0.05)]
    assert len(waited) >= 30
    # each of them ended after the lock was released, and its latency counts from when it was due
    assert (waited.end >= lock_end - 0.005).all()
    assert (waited.latency_ms >= (lock_end - waited.intended_start) * 1e3 - 5).all()
    assert work.stats["max_queue_delay_ms"] > 100  # clients were all busy: queued, not just slow


def test_renamed_column_fails_place_order_and_the_app_carries_on(server, shop):
    rename = lambda conn: conn.execute("ALTER TABLE orders RENAME COLUMN transaction_id TO txn_id")
    work, frame = run_for(server, shop, 1.5, during=rename, rate=100)
    after = frame[frame.intended_start > work._t0 + 0.5]
    placed = after[after.kind == "place_order"]
    assert len(placed) > 5 and (~placed.ok).all()
    assert set(placed.sqlstate) == {"42703"}
    assert placed.error.str.contains("transaction_id").all()
    assert set(after[after.kind == "refund"].sqlstate) <= {"42703"}  # reads it too
    assert after[after.kind == "read_order"].ok.all()  # does not use the column: unaffected
    assert after[after.kind == "list_recent_orders"].ok.all()
    assert frame.intended_start.max() > work._t0 + 1.3  # kept running to the end


def test_lock_timeout_gives_55P03(server, shop):
    during, _ = hold_lock(0.4)
    work, frame = run_for(server, shop, 1.2, during=during, rate=100, lock_timeout_ms=50)
    failed = frame[~frame.ok]
    assert len(failed) > 5 and set(failed.sqlstate) == {"55P03"}
    assert frame[frame.intended_start > frame.intended_start.max() - 0.3].ok.all()  # recovered


def test_stop_is_bounded_when_clients_are_stuck(server, shop):
    work = Workload(server, shop, WorkloadConfig(rate=100, clients=4))
    work.start()
    release = threading.Event()

    def hold():
        with server.connect(shop) as conn, conn.transaction():
            conn.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.5)
    began = time.monotonic()
    frame = work.stop(timeout=1.0)
    took = time.monotonic() - began
    release.set()
    holder.join()
    assert took < 3.0
    assert work.stats["cancelled_at_stop"] == 4
    assert set(frame[~frame.ok].sqlstate) == {"57014"}
    assert work.stats["shortfall"] > 0  # due while the clients were stuck: never run, not errors
    assert work.stats["errors"] == 4


def test_bad_config_is_refused(server, shop):
    from dbserver import BadInput

    with pytest.raises(BadInput, match="query set"):
        Workload(server, shop, WorkloadConfig(queries="nope"))
    with pytest.raises(BadInput, match="unknown kinds"):
        Workload(server, shop, WorkloadConfig(mix={"teleport": 1.0}))


def test_broken_connections_are_replaced(server, shop):
    kill = lambda conn: conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'rehearsal-app'"
    )
    work, frame = run_for(server, shop, 1.5, during=kill, rate=100, clients=4)
    assert len(work.backend_pids) > 4  # new backends after the kill
    assert set(frame[~frame.ok].sqlstate) <= {"57P01", "08006"}  # killed while busy, or found dead
    assert frame[frame.intended_start > work._t0 + 0.8].ok.all()
