"""Impact counted as users feel it, and locks as the application sees them (real server, real traffic)."""

from __future__ import annotations

from pathlib import Path

from rehearse import run
from rehearse.analysis.delays import app_locks, delayed_transactions
from rehearse.analysis.summary import summary
from rehearse.verdicts.judge import verdict

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(scale=0.01, seed=4242, rate=100, clients=4, warmup=0.5, cooldown=0.5)


def rehearse(tmp_path, sql: str, setup: str | None = None, **options):
    path = tmp_path / "up.sql"
    path.write_text(sql)
    if setup is not None:
        (tmp_path / "setup.sql").write_text(setup)
        options["setup"] = str(tmp_path / "setup.sql")
    result = run(path, **{**FAST, **options})
    return result, summary(result)


def statement(data: dict, index: int) -> dict:
    return next(s for s in data["statements"] if s["index"] == index)


def test_every_transaction_queued_behind_a_lock_is_counted_as_delayed(tmp_path):
    rate, hold = 200, 1.5
    result, data = rehearse(
        tmp_path, f"LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({hold});", rate=rate, warmup=1
    )
    lock = statement(data, 1)
    delayed = delayed_transactions(result)
    touching = delayed[delayed["kind"].map(lambda k: any(r == "public.orders" for r, _ in app_locks(k)))]
    assert len(touching) >= 0.8 * rate * hold
    assert lock["delayed_app_tx"] >= len(touching) and data["delayed_app_tx"] >= lock["delayed_app_tx"]
    assert lock["blocked_app_tx"] <= 4 < lock["delayed_app_tx"]  # backends seen waiting: at most the clients
    assert 1000 <= lock["delayed_app_ms_max"] <= 2500 and lock["delayed_app_ms_p50"] <= lock["delayed_app_ms_p99"]
    reasons = verdict(result).statement(1).reasons
    assert any(r.startswith(f"delayed {lock['delayed_app_tx']:,} application transactions") for r in reasons)


def test_quick_reads_are_not_delayed_by_a_lock_they_do_not_conflict_with(tmp_path):
    _, data = rehearse(tmp_path, "LOCK TABLE orders IN SHARE MODE; SELECT pg_sleep(1);", rate=200)
    result_rows = statement(data, 1)
    assert result_rows["delayed_app_tx"] > 0  # writers wait …
    _, quiet = rehearse(tmp_path, "LOCK TABLE orders IN ACCESS SHARE MODE; SELECT pg_sleep(1);", rate=200)
    assert statement(quiet, 1)["delayed_app_tx"] == 0  # … and nobody waits for AccessShareLock


def test_lock_on_the_index_being_built_is_its_own_not_the_strongest(tmp_path):
    _, data = rehearse(tmp_path, "CREATE INDEX orders_status_idx ON orders (order_status);")
    built = statement(data, 1)
    assert built["strongest_lock"] == "ShareLock"
    own = [lock for lock in built["locks"] if lock.get("own")]
    assert [lock["relation"] for lock in own] == ["public.orders_status_idx"]
    assert not any(lock.get("own") for lock in built["locks"] if lock["relation"] == "public.orders")


def test_failed_statement_reports_its_expected_locks(tmp_path):
    # Fails microseconds after its lock is granted: no 10 ms sampler tick can see it.
    _, data = rehearse(tmp_path, "ALTER TABLE orders ALTER COLUMN no_such_column TYPE bigint;")
    failed = statement(data, 1)
    assert failed["status"] == "failed" and failed["error"]["sqlstate"] == "42703"
    assert failed["strongest_lock"] == "AccessExclusiveLock"
    on_orders = [lock for lock in failed["locks"] if lock["relation"] == "public.orders"]
    assert on_orders and all(lock.get("expected") == "expected, not observed" for lock in on_orders)
    assert failed["locks_expected_only"] and failed["lock_hold_ms"] >= 0


def test_renamed_table_is_reported_under_the_name_the_application_knows(tmp_path):
    _, data = rehearse(tmp_path, "ALTER TABLE orders RENAME TO orders_renamed;")
    renamed = statement(data, 1)
    lock = next(lock for lock in renamed["locks"] if lock["mode"] == "AccessExclusiveLock")
    assert lock["relation"] == "public.orders" and lock["renamed_to"] == "public.orders_renamed"


PROCEDURE = """
CREATE PROCEDURE touch_orders(batches int, pause_s float8) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..batches LOOP
        UPDATE orders SET updated_at = updated_at WHERE order_id > (i - 1) * 2000 AND order_id <= i * 2000;
        PERFORM pg_sleep(0.15);
        COMMIT;
        PERFORM pg_sleep(pause_s);
    END LOOP;
END $$;
"""


def test_procedure_committing_between_batches_holds_once_per_transaction(tmp_path):
    _, data = rehearse(
        tmp_path, "-- rehearse:no-transaction\nCALL touch_orders(5, 0.1);", setup=PROCEDURE, sample_interval=0.01
    )
    call = statement(data, 1)
    assert call["strongest_lock"] == "RowExclusiveLock"
    assert call["lock_hold_count"] >= 4  # one hold per committed batch (a batch may slip between two samples)
    assert call["lock_hold_ms"] < call["duration_ms"] / 2  # the longest single hold, not the whole CALL


def test_measured_no_scan_overrules_the_static_not_null_rule(tmp_path):
    check = "ALTER TABLE orders ADD CONSTRAINT currency_present CHECK (currency IS NOT NULL);"
    result, data = rehearse(tmp_path, "ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;", setup=check)
    assert statement(data, 1)["scanned"] is False
    judged = verdict(result, tmp_path / "up.sql", squawk=False).statement(1)
    assert "R005-not-null-scan" not in judged.finding_ids
    assert any("the measurement wins" in r for r in judged.reasons)


def test_scan_under_a_blocking_lock_fires_whatever_the_statement():
    example = ROOT / "migrations/examples/R013-scan-under-lock"
    risky = verdict(run(example / "risky.sql", **FAST), example / "risky.sql", squawk=False)
    safer = verdict(run(example / "safer.sql", **FAST), example / "safer.sql", squawk=False)
    assert "R013-scan-under-lock" in risky.finding_ids
    assert "R013-scan-under-lock" not in safer.finding_ids


def test_unqualified_names_resolve_in_the_search_path_the_migration_set(tmp_path):
    from rehearse.sql.migration import load
    from rehearse.verdicts.rules_static import hits as static_hits

    path = tmp_path / "up.sql"
    path.write_text(
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"
        'SET search_path TO "$user", billing, public;\n'
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"
        "ALTER TABLE public.orders ALTER COLUMN note SET NOT NULL;"
    )
    migration = load(path)
    assert [str(lk) for s in migration.statements for lk in s.expected_locks] == [
        "public.orders:AccessExclusiveLock",
        "billing.orders:AccessExclusiveLock",
        "public.orders:AccessExclusiveLock",
    ]
    tables = [h.detail["table"] for h in static_hits(migration) if h.finding_id == "R005-not-null-scan"]
    assert tables == ["public.orders", "billing.orders", "public.orders"]
