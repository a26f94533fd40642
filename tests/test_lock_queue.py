"""The lock queue: a long transaction makes an instant ALTER wait and the application pile up behind it."""

from rehearse import run
from rehearse.analysis.summary import summary
from rehearse.analysis.timeline import latency_by_phase

FAST = dict(scale=0.01, seed=4242, rate=100, clients=4, warmup=1.0, cooldown=0.5, long_transaction=1.5)


def test_alter_waits_behind_a_long_transaction_and_traffic_piles_up(tmp_path):
    path = tmp_path / "up.sql"
    path.write_text("ALTER TABLE orders ADD COLUMN note text;")
    result = run(path, **FAST)
    alter = summary(result)["statements"][0]
    assert alter["lock_wait_ms"] > 700  # waited for the long transaction (1.5 s − 0.5 s lead)
    assert alter["lock_hold_ms"] < 200  # the change itself is instant
    assert alter["blocked_app_ms_max"] > 600  # yet the application queued behind it
    assert latency_by_phase(result).loc["during", "p99_ms"] > 600


def test_lock_timeout_with_retries_keeps_the_queue_short(tmp_path):
    path = tmp_path / "up.sql"
    path.write_text("ALTER TABLE orders ADD COLUMN note text;")
    result = run(path, lock_timeout=50, lock_retries=20, **FAST)
    alter = summary(result)["statements"][0]
    assert alter["status"] == "ok" and result.statements["attempts"].iloc[0] > 1
    assert alter["blocked_app_ms_max"] < 300
    assert latency_by_phase(result).loc["during", "p99_ms"] < 500


def test_without_retries_a_lock_timeout_is_a_failed_result(tmp_path):
    path = tmp_path / "up.sql"
    path.write_text("ALTER TABLE orders ADD COLUMN note text;")
    data = summary(run(path, lock_timeout=50, **FAST))
    assert data["outcome"] == "failed" and data["statements"][0]["error"]["sqlstate"] == "55P03"
