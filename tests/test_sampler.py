"""The sampler against a real server: a held lock, a blocked reader, load counters, progress, failure."""

import threading
import time

import pandas as pd
import pytest

import dbserver
from rehearse.measure import sampler_queries as queries
from rehearse.measure.sampler import APPLICATION_NAME, Sampler

SLOP = 0.05  # seconds: the interval (0.01) plus scheduling noise on a busy 2-core machine
WATCHED = "test-migration"  # the application_name the adaptive sampler watches, as the runner's migration


def _setup(server, db, *statements):
    with server.connect(db) as conn:
        for statement in statements:
            conn.execute(statement)


def _adaptive(server, db):
    return Sampler(server, db, interval=0.01, idle_interval=0.1, watch_application=WATCHED)


def _assert_not_self(frames):
    me = frames.stats["sampler_pid"]
    for frame in (frames.locks, frames.activity, frames.progress):
        assert me not in set(frame["pid"])


@pytest.fixture
def held_lock(server, empty_db):
    """Hold ACCESS EXCLUSIVE on t for 0.3 s while a reader queues behind it; the truth, timed around."""
    _setup(server, empty_db, "CREATE TABLE t (id int)")
    truth = {}
    with server.connect(empty_db) as holder, server.connect(empty_db) as reader, Sampler(server, empty_db) as sampler:
        truth.update(holder=holder.info.backend_pid, reader=reader.info.backend_pid)
        time.sleep(0.1)
        holder.execute("BEGIN")
        truth["before_lock"] = time.time()
        holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        truth["after_lock"] = time.time()
        blocked = threading.Thread(target=lambda: reader.execute("SELECT * FROM t").fetchall())
        blocked.start()
        time.sleep(0.3)
        truth["before_commit"] = time.time()
        holder.execute("COMMIT")
        truth["after_commit"] = time.time()
        blocked.join()
        time.sleep(0.1)
    return sampler.frames, truth


def test_held_lock_spans_the_true_duration(held_lock):
    frames, truth = held_lock
    locks = frames.locks
    mine = locks[(locks["pid"] == truth["holder"]) & (locks["mode"] == "AccessExclusiveLock")]
    assert set(mine["relation"]) == {"public.t"} and set(mine["relkind"]) == {"r"}
    assert mine["granted"].all()
    first, last = mine["t"].min(), mine["t"].max()
    assert truth["before_lock"] - SLOP <= first <= truth["after_lock"] + SLOP
    assert truth["before_commit"] - SLOP <= last <= truth["after_commit"] + SLOP
    _assert_not_self(frames)


def test_blocked_reader_shows_its_blocker_and_its_waiting_lock(held_lock, server, tmp_path):
    frames, truth = held_lock
    activity = frames.activity
    waiting = activity[(activity["pid"] == truth["reader"]) & (activity["wait_event_type"] == "Lock")]
    assert len(waiting) >= 10
    assert all(truth["holder"] in blockers for blockers in waiting["blocked_by"])
    locks = frames.locks
    queued = locks[(locks["pid"] == truth["reader"]) & ~locks["granted"]]
    assert set(queued["mode"]) == {"AccessShareLock"} and set(queued["relation"]) == {"public.t"}
    if server.version_num >= 140000:
        assert (queued["waitstart"] <= queued["t"]).all()
    # blocked_by is a list column: parquet keeps it (read back as arrays), exploding gives the same pairs.
    activity.to_parquet(tmp_path / "activity.parquet")
    back = pd.read_parquet(tmp_path / "activity.parquet")
    pairs = lambda f: f[["pid", "blocked_by"]].explode("blocked_by").dropna().astype(int)  # noqa: E731
    assert pairs(back).equals(pairs(activity))


def test_load_counts_inserts_wal_and_cpu(server, empty_db):
    rows = 20_000
    _setup(server, empty_db, "CREATE TABLE t (id int)")
    with server.connect(empty_db) as writer, Sampler(server, empty_db, load_every=2) as sampler:
        time.sleep(0.1)
        writer.execute("INSERT INTO t SELECT generate_series(1, %s)", (rows,))
        # Backends publish their counters lazily; 15+ can be told to flush now, before that wait.
        if server.version_num >= 150000:
            writer.execute("SELECT pg_stat_force_next_flush()")
        time.sleep(0.3 if server.version_num >= 150000 else 1.2)
    load = sampler.frames.load
    assert load["tup_inserted"].iloc[-1] - load["tup_inserted"].iloc[0] >= rows
    # The origin is read at start; other backends (autovacuum, a spare being copied) may add a little WAL
    # before the first sample, the insert adds megabytes.
    assert load["wal_bytes"].iloc[-1] - load["wal_bytes"].iloc[0] > rows * 20 and load["wal_bytes"].iloc[0] >= 0
    if server.postmaster_pid() is not None:
        assert load["cpu_seconds"].notna().all() and load["cpu_seconds"].is_monotonic_increasing
        assert (load["cpu_percent"].dropna() >= 0).all()


def test_interval_is_honoured_and_sampler_is_named(server, empty_db):
    with Sampler(server, empty_db, interval=0.01) as sampler, server.connect(empty_db) as other:
        began = time.monotonic()
        time.sleep(0.2)
        names = {r[0] for r in other.execute("SELECT application_name FROM pg_stat_activity")}
        other_pid = other.info.backend_pid
        time.sleep(0.8)
        elapsed = time.monotonic() - began
    frames = sampler.frames
    assert APPLICATION_NAME in names
    assert frames.stats["ticks"] >= 0.8 * elapsed / 0.01
    assert frames.stats["error"] is None
    # `other` is seen; the sampler leaves itself out (an autovacuum worker visiting the new database may show too)
    assert other_pid in set(frames.activity["pid"])
    _assert_not_self(frames)


@pytest.mark.parametrize("adaptive", [False, True])
def test_create_index_shows_progress(server, empty_db, adaptive):
    _setup(server, empty_db, "CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 1000000) g")
    sampler = _adaptive(server, empty_db) if adaptive else Sampler(server, empty_db)
    with server.connect(empty_db, application_name=WATCHED) as conn, sampler:
        conn.execute("CREATE INDEX ON big (id)")
    progress = sampler.frames.progress
    built = progress[progress["view"] == "create_index"]
    assert len(built) >= 1
    assert set(built["relation"]) == {"public.big"} and set(built["command"]) == {"CREATE INDEX"}


def test_stop_after_the_database_is_dropped_reports_the_error(server, empty_db):
    sampler = Sampler(server, empty_db, watch_pid=12345)
    sampler.start()
    time.sleep(0.1)
    dbserver.drop(server, empty_db)
    began = time.monotonic()
    frames = sampler.stop()
    assert time.monotonic() - began < 5
    assert frames.stats["error"] and frames.stats["ticks"] > 0
    assert frames.stats["watch_pid"] == 12345


@pytest.mark.parametrize("version", [130000, 140000, 160000, 170000, 180000])
def test_queries_follow_the_version(version):
    snapshot, load = queries.snapshot_sql(version), queries.load_sql(version)
    assert ("l.waitstart" in snapshot) == (version >= 140000)
    assert ("pg_stat_bgwriter" in load) == (version < 170000)


def test_adaptive_rate_idles_when_quiet_and_runs_fast_for_the_migration(server, empty_db):
    _setup(server, empty_db, "CREATE TABLE t (id int)")
    with server.connect(empty_db) as bystander, _adaptive(server, empty_db) as sampler:
        bystander_pid = bystander.info.backend_pid
        bystander.execute("BEGIN")
        bystander.execute("LOCK TABLE t IN SHARE MODE")  # held, but nobody waits and it is not the migration
        time.sleep(1.0)
        quiet = dict(sampler.stats)
        with sampler.migration_running():
            time.sleep(0.5)
    frames = sampler.frames
    assert 5 <= quiet["ticks"] <= 15 and quiet["fast_ticks"] == 0
    fast = frames.stats["fast_ticks"]
    assert 0.6 * 50 <= fast <= 0.5 / 0.01 + 2
    assert frames.stats["idle_interval"] == 0.1
    # A tick with nothing relevant reads no pg_locks: the bystander's lock is never recorded.
    assert bystander_pid not in set(frames.locks["pid"])
    assert bystander_pid in set(frames.activity["pid"])


def test_adaptive_rate_runs_fast_while_anyone_waits(server, empty_db):
    _setup(server, empty_db, "CREATE TABLE t (id int)")
    with server.connect(empty_db) as holder, server.connect(empty_db) as reader, _adaptive(server, empty_db) as sampler:
        pids = dict(holder=holder.info.backend_pid, reader=reader.info.backend_pid)
        time.sleep(0.2)
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        blocked = threading.Thread(target=lambda: reader.execute("SELECT * FROM t").fetchall())
        blocked.start()
        time.sleep(0.5)
        holder.execute("COMMIT")
        blocked.join()
        time.sleep(0.2)
    frames = sampler.frames
    waiting = frames.activity[
        (frames.activity["pid"] == pids["reader"]) & (frames.activity["wait_event_type"] == "Lock")
    ]
    assert len(waiting) >= 0.6 * 0.4 / 0.01  # the first idle tick that saw the wait switched to 10 ms
    held = frames.locks[(frames.locks["pid"] == pids["holder"]) & frames.locks["granted"]]
    # While someone waits, every backend's locks are read (but for the tick whose pg_locks came after the
    # COMMIT: activity and locks are read one after the other).
    assert len(set(waiting["t"]) - set(held["t"])) <= 1


@pytest.mark.parametrize("hold", [0.02, 0.05])
def test_every_short_migration_lock_is_captured(server, empty_db, hold):
    """Miss rate 0: each hold of the watched backend, taken after the sampler idled, is seen at the fast rate."""
    _setup(server, empty_db, "CREATE TABLE t (id int)")
    truths = []
    with server.connect(empty_db, application_name=WATCHED) as migration, _adaptive(server, empty_db) as sampler:
        pid = migration.info.backend_pid
        for _ in range(5):
            time.sleep(0.25)  # long enough for the sampler to fall back to its 100 ms rate
            with sampler.migration_running():
                migration.execute("BEGIN")
                before = time.time()
                migration.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                granted = time.time()
                migration.execute("SELECT pg_sleep(%s)", (hold,))
                migration.execute("COMMIT")
                truths.append((before, granted, time.time()))
    locks = sampler.frames.locks
    mine = locks[(locks["pid"] == pid) & (locks["mode"] == "AccessExclusiveLock")]
    for before, granted, released in truths:
        seen = mine[(mine["t"] >= before) & (mine["t"] <= released)]
        assert len(seen) >= 1, f"hold {before:.3f}–{released:.3f} missed"
        assert seen["t"].min() - granted <= SLOP  # the grant edge as precise as a fixed 10 ms sampler's
