"""The rehearsal engine end to end on a real server: known lock modes, rewrites, blocking, cleanup."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import dbserver
import rehearse as rh
from rehearse import load, run
from rehearse.analysis.summary import summary
from rehearse.analysis.timeline import blocked_transactions
from rehearse.cli import main

SCALE, SEED = 0.01, 4242  # 100 k orders: big enough that scans and index builds are seen by the sampler
FAST = dict(scale=SCALE, seed=SEED, rate=100, clients=4, warmup=0.5, cooldown=0.5)


def rehearse(tmp_path, sql: str, **options) -> dict:
    path = tmp_path / "up.sql"
    path.write_text(sql)
    result = run(path, **{**FAST, **options})
    return summary(result) | {"_result": result}


def by_index(data: dict, index: int) -> dict:
    return next(s for s in data["statements"] if s["index"] == index)


def modes_on(statement: dict, relation: str) -> set[str]:
    return {lock["mode"] for lock in statement["locks"] if lock["relation"] == relation}


def test_add_column_takes_access_exclusive(tmp_path):
    data = rehearse(tmp_path, "ALTER TABLE orders ADD COLUMN note text;")
    assert "AccessExclusiveLock" in modes_on(by_index(data, 1), "public.orders")
    assert by_index(data, 1)["strongest_lock"] == "AccessExclusiveLock"
    assert not by_index(data, 1)["rewrote"]


def test_create_index_takes_share_lock_and_scans(tmp_path):
    data = rehearse(tmp_path, "CREATE INDEX orders_status_idx ON orders (order_status);")
    stmt = by_index(data, 1)
    assert "ShareLock" in modes_on(stmt, "public.orders")
    assert "public.orders" in stmt["scanned_tables"]


def test_create_index_concurrently_takes_share_update_exclusive(tmp_path):
    data = rehearse(tmp_path, "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (order_status);")
    stmt = by_index(data, 1)
    assert modes_on(stmt, "public.orders") == {"ShareUpdateExclusiveLock"}


def test_foreign_key_locks_both_tables(tmp_path):
    data = rehearse(
        tmp_path, "ALTER TABLE order_items ADD CONSTRAINT fk FOREIGN KEY (order_id) REFERENCES orders (order_id);"
    )
    stmt = by_index(data, 1)
    assert "ShareRowExclusiveLock" in modes_on(stmt, "public.order_items")
    assert "ShareRowExclusiveLock" in modes_on(stmt, "public.orders")


def test_int_to_bigint_rewrites_but_varchar_widening_does_not(tmp_path):
    data = rehearse(
        tmp_path,
        "BEGIN; ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint; COMMIT;\n"
        "BEGIN; ALTER TABLE orders ALTER COLUMN order_status TYPE varchar(20); COMMIT;\n"
        "BEGIN; ALTER TABLE orders ALTER COLUMN order_status TYPE varchar(50); COMMIT;",
    )
    assert "public.order_items" in by_index(data, 2)["rewritten"]
    assert "public.orders" in by_index(data, 5)["rewritten"]  # text → varchar(20) must check: rewrite
    assert by_index(data, 8)["rewritten"] == []  # widening: catalogue only


def test_reads_are_blocked_behind_access_exclusive(tmp_path):
    data = rehearse(tmp_path, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1);", rate=200)
    lock = by_index(data, 1)
    assert lock["blocked_app_tx"] > 0
    assert 700 <= lock["blocked_app_ms_max"] <= 1300
    assert 950 <= lock["lock_hold_ms"] <= 1300
    assert data["workload"]["during"]["p99_ms"] > 5 * data["workload"]["before"]["p50_ms"]


def test_writes_blocked_during_create_index_but_not_concurrently(tmp_path):
    plain = rehearse(tmp_path, "CREATE INDEX i1 ON orders (order_status); SELECT pg_sleep(1);", rate=200)
    assert by_index(plain, 1)["blocked_app_tx"] > 0
    # Readers pass a ShareLock (they may still queue for a free connection, but they never wait on a lock).
    kinds = set(blocked_transactions(plain["_result"])["kind"])
    assert kinds and kinds <= {"place_order", "update_status", "refund"}
    conc = rehearse(tmp_path, "CREATE INDEX CONCURRENTLY i2 ON orders (order_status);", rate=200)
    assert by_index(conc, 1)["blocked_app_tx"] == 0


def test_failed_statement_is_a_result_and_the_clone_is_dropped(server, tmp_path):
    data = rehearse(tmp_path, "ALTER TABLE orders ADD COLUMN x int;\nSELECT 1/0;\nALTER TABLE orders ADD COLUMN y int;")
    assert data["outcome"] == "failed"
    assert by_index(data, 2)["error"]["sqlstate"] == "22012"
    assert by_index(data, 3)["status"] == "skipped"
    assert by_index(data, 1)["status"] == "ok"
    assert not dbserver.exists(server, data["_result"].manifest.scratch_database)


def test_run_is_saved_and_reloads(tmp_path):
    data = rehearse(tmp_path, "ALTER TABLE orders ADD COLUMN note text;")
    again = load(data["run_id"])
    assert again.manifest.seed == SEED and again.manifest.scale == SCALE
    assert summary(again)["statements"] == [{k: v for k, v in s.items()} for s in data["statements"]]


def test_cli_exit_codes_and_json(tmp_path):
    ok = tmp_path / "ok.sql"
    ok.write_text("ALTER TABLE orders ADD COLUMN note text;")
    out = tmp_path / "out.json"
    args = [
        sys.executable,
        "-m",
        "rehearse.cli",
        "run",
        str(ok),
        "--scale",
        str(SCALE),
        "--seed",
        str(SEED),
        "--rate",
        "50",
        "--warmup",
        "0.2",
        "--cooldown",
        "0.2",
        "--json",
        str(out),
    ]
    assert subprocess.run(args, capture_output=True).returncode == 0
    fields = set(json.loads(out.read_text())["statements"][0])
    assert {
        "index",
        "sql",
        "duration_ms",
        "locks",
        "strongest_lock",
        "lock_wait_ms",
        "lock_hold_ms",
        "rewrote",
        "scanned",
        "blocked_app_ms_max",
        "error",
    } <= fields
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT 1/0;")
    assert subprocess.run(args[:4] + [str(bad)] + args[5:-2], capture_output=True).returncode == 1
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing\n")
    res = subprocess.run(args[:4] + [str(empty)] + args[5:-2], capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "no SQL statements" in res.stderr
    res = subprocess.run(args + ["--bogus"], capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1


def test_interrupted_run_drops_its_scratch_database(server, tmp_path):
    slow = tmp_path / "interrupted_by_test.sql"  # the name marks our scratch database among others' runs
    slow.write_text("SELECT pg_sleep(30);")
    mine = lambda: {n for n in dbserver.list_owned(server, "rehearsal_run_") if "_interrupted_by_test_" in n}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rehearse.cli",
            "run",
            str(slow),
            "--scale",
            str(SCALE),
            "--seed",
            str(SEED),
            "--rate",
            "20",
            "--warmup",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job starts with SIGINT ignored, and Python then keeps it ignored: give the
        # child Ctrl-C back, whoever launched the tests.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 60
    while time.time() < deadline and not mine():
        time.sleep(0.2)
    ours = mine()
    assert ours, "the run never created its scratch database"
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert not ours & mine()


def test_public_verbs_are_functions_even_after_their_modules_are_imported():
    import rehearse as api
    import rehearse.analysis.summary
    import rehearse.verdicts.judge

    assert callable(api.summary) and callable(api.verdict) and callable(api.run) and callable(api.load)


def test_saved_run_keeps_what_ran_after_the_file_is_edited_and_deleted(tmp_path):
    path = tmp_path / "gone.sql"
    path.write_text("ALTER TABLE orders ALTER COLUMN transaction_id TYPE bigint USING transaction_id::bigint;\n")
    result = run(path, scale=SCALE, seed=SEED, rate=50, warmup=0.3, cooldown=0.3)
    before = rh.judge(result)
    path.write_text("SELECT 1;\n")  # edited, then deleted: the saved run must not notice
    path.unlink()
    again = load(result.run_id)
    assert [s.sql for s in again.migration.statements] == [s.sql for s in result.migration.statements]
    assert "ALTER COLUMN transaction_id TYPE bigint" in again.migration.statements[0].sql
    assert again.migration.statements[0].expected_locks[0].mode == "AccessExclusiveLock"
    assert again.plan.to_dict()["transactions"] == [[1]]
    assert any(h["finding_id"].startswith("R001") for h in again.findings.hits)  # the static rewrite finding
    judged = rh.judge(again)
    assert judged.level == before.level and judged.finding_ids == before.finding_ids
    assert "R001-table-rewrite" in judged.finding_ids
    assert main(["report", result.run_id]) == 0
