"""The sampler's cheaper tick keeps what it records: relation names across a rename and a new table, the CPU."""

import time

from rehearse.measure.sampler import Sampler
from rehearse.measure.sampler_cpu import CpuMeter

WATCHED = "test-migration"


def _held(sampler, conn, statements, seconds=0.1):
    """Run `statements` in one transaction of the watched backend that stays open `seconds`."""
    with sampler.migration_running():
        conn.execute("BEGIN")
        for statement in statements:
            conn.execute(statement)
        time.sleep(seconds)
        conn.execute("COMMIT")


def test_names_follow_a_rename_and_a_table_created_in_the_transaction(server, empty_db):
    with server.connect(empty_db) as setup:
        setup.execute("CREATE TABLE t (id int)")
    sampler = Sampler(server, empty_db, interval=0.01, idle_interval=0.1, watch_application=WATCHED)
    with server.connect(empty_db, application_name=WATCHED) as migration, sampler:
        pid = migration.info.backend_pid
        _held(sampler, migration, ["LOCK TABLE t IN ACCESS EXCLUSIVE MODE"])
        renamed = time.time()
        migration.execute("ALTER TABLE t RENAME TO u")
        _held(sampler, migration, ["LOCK TABLE u IN ACCESS EXCLUSIVE MODE", "CREATE TABLE fresh (id int)"])
        committed = time.time()
        _held(sampler, migration, ["LOCK TABLE fresh IN SHARE MODE"])
    locks = sampler.frames.locks
    mine = locks[(locks["pid"] == pid) & locks["granted"]]
    before, after = mine[mine["t"] < renamed], mine[mine["t"] > renamed]
    assert set(before["relation"].dropna()) == {"public.t"}
    assert "public.t" not in set(after["relation"]) and "public.u" in set(after["relation"])
    assert set(after.loc[after["relation"] == "public.u", "relkind"]) == {"r"}
    # A relation its own uncommitted transaction created is not in the catalogue the sampler reads: unnamed,
    # as the server-side join left it; named once committed.
    share = mine[mine["mode"] == "ShareLock"]
    assert len(share) >= 3 and (share["t"] > committed).all() and set(share["relation"]) == {"public.fresh"}
    exclusive_new = mine[(mine["t"] > renamed) & (mine["t"] < committed) & (mine["mode"] == "AccessExclusiveLock")]
    assert exclusive_new["relation"].isna().any()  # the new table's own lock, unnamed while uncommitted


def test_cpu_meter_agrees_with_psutil(server):
    if server.postmaster_pid() is None:
        return  # a remote server: no CPU to read
    with server.connect("postgres") as conn:
        fast, fallback = CpuMeter(server.postmaster_pid()), CpuMeter(server.postmaster_pid())
        fallback._fast = False  # psutil alone, as on a kernel without the /proc files
        assert fast._fast, "this Linux should list a task's children and its schedstat"
        fast.read(), fallback.read()
        began = time.process_time()
        conn.execute("SELECT count(*) FROM generate_series(1, 2000000)")
        busy = fast.read(), fallback.read()
        assert time.process_time() - began < 0.2  # the work was the server's
    # Other engineers' backends share this server: both meters see them alike, so only compare.
    assert busy[0] >= 0.05 and abs(busy[0] - busy[1]) <= 0.05 + 0.3 * busy[1], busy
