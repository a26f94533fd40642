"""Warm spares: made in the background after a rehearsal, taken by the next one, never stale, cleaned away."""

from __future__ import annotations

import shutil
import time

import psutil
import pytest

import datagen
import dbserver
from dbserver import databases, leftovers, warm, warm_make
from rehearse import cli
from rehearse.measure import preflight, runner
from rehearse.measure.rollback import verify_rollback
from rehearse.sql import migration as migration_mod

SCALE, SEED = 0.001, 42  # the tiny template other tests use too (this module never changes it)
QUICK = dict(scale=SCALE, seed=SEED, rate=20, warmup=0.2, cooldown=0.2)
PRE = dict(scale=SCALE, seed=SEED)
TOY = "rehearsal_tpl_warm_test"  # an empty template of this module's own: rebuilt in a second


@pytest.fixture(scope="module")
def template(server):
    name = datagen.build(SCALE, seed=SEED, server=server, progress=False).name
    yield name
    drop_spares(server, name)


@pytest.fixture
def toy(server):
    """An empty database marked as a template: enough for spares, rebuilt (dropped, made again) at once."""
    dbserver.create(server, TOY, "template")
    yield TOY
    drop_spares(server, TOY)
    dbserver.drop(server, TOY)


def drop_spares(server, template: str) -> None:
    with warm.quiet(server, template):  # after a maker of it still copying
        for spare in warm.spares(server):
            if spare.startswith(template):
                dbserver.drop(server, spare)


def makers() -> list[psutil.Process]:
    """The spare makers this test process started."""
    return [p for p in psutil.Process().children() if "dbserver.warm_make" in " ".join(p.cmdline())]


def wait_for_makers(timeout: float = 60) -> None:
    for maker in makers():
        maker.wait(timeout=timeout)


def test_the_next_rehearsal_starts_on_the_spare_the_last_one_left(server, template, tmp_path):
    migration = tmp_path / "add_note.sql"
    migration.write_text("ALTER TABLE orders ADD COLUMN note text;")
    wait_for_makers()
    drop_spares(server, template)
    off = runner.run(migration, no_warm_clone=True, **QUICK)
    assert makers() == [] and not any(s.startswith(template) for s in warm.spares(server))  # off: none made
    cold = off.manifest.baseline_copy
    assert cold["warm"] is False

    print(warm_make.make(server, template))  # what the background maker does, here in the foreground
    spare = warm.spare_name(template, warm.version(server, template))
    with server.connect() as conn:
        allowed = conn.execute("SELECT datallowconn FROM pg_database WHERE datname = %s", (spare,)).fetchone()
    assert databases.ownership(server, spare) == warm.KIND and allowed == (False,)  # no session can enter it

    warmed = runner.run(migration, **QUICK)
    copy = warmed.manifest.baseline_copy
    assert copy["warm"] is True and copy["wait_s"] < min(1.0, cold["wait_s"])
    assert not dbserver.exists(server, warmed.manifest.scratch_database)  # taken, then dropped like any copy
    assert makers(), "the run started no maker for the next spare"
    wait_for_makers()  # the user reads the report
    assert databases.ownership(server, spare) == warm.KIND  # the next one is ready


def test_a_spare_of_a_rebuilt_template_is_never_used(server, toy):
    print(warm_make.make(server, toy))
    old = warm.spare_name(toy, warm.version(server, toy))
    assert databases.ownership(server, old) == warm.KIND
    dbserver.drop(server, toy)
    dbserver.create(server, toy, "template")  # rebuilt: what datagen.build(…, rebuild=True) does to the name
    assert old in warm.stale(server)
    assert not warm.take(server, toy, "rehearsal_run_warm_test_rebuilt")
    assert dbserver.exists(server, old) and not dbserver.exists(server, "rehearsal_run_warm_test_rebuilt")
    assert old in {each.name for each in leftovers.clean(server)}  # …and gone with the leftovers of any run
    assert not dbserver.exists(server, old)


def test_rehearse_clean_drops_every_spare(server, toy, capsys):
    print(warm_make.make(server, toy))
    spare = warm.spare_name(toy, warm.version(server, toy))
    assert spare not in {each.name for each in leftovers.find(server)}  # a run's own cleaning keeps a fresh one
    capsys.readouterr()
    assert cli.main(["clean"]) == 0
    assert f"dropped {spare} (warm)" in capsys.readouterr().out
    assert not dbserver.exists(server, spare)


def test_a_rehearsal_of_another_template_cancels_a_spare_being_made(server, toy):
    """A copy never runs under a measurement: quiet() on another template cancels it, and no spare is left."""
    with server.connect() as conn:  # hold the lock a maker needs, so it is caught waiting
        conn.execute("SELECT pg_advisory_lock_shared(%s)", (warm.MAKING,))
        maker = warm_make.prepare(server, toy)
        deadline = time.time() + 30
        while time.time() < deadline and not _waiting_maker(server):
            time.sleep(0.1)
        with warm.quiet(server, "template1"):
            assert maker.wait(timeout=30) == 0
    assert not dbserver.exists(server, warm.spare_name(toy, warm.version(server, toy)))


def _waiting_maker(server) -> bool:
    with server.connect() as conn:
        return bool(
            conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE %s AND wait_event_type = 'Lock'",
                (warm.MAKER_APP + "%",),
            ).fetchone()
        )


def _oid(server, name: str):
    with server.connect() as conn:
        row = conn.execute("SELECT oid FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row[0] if row else None


def test_preflight_and_the_rollback_check_take_a_ready_spare(server, template, tmp_path):
    wait_for_makers()
    print(warm_make.make(server, template))
    spare = warm.spare_name(template, warm.version(server, template))
    made = _oid(server, spare)
    check = tmp_path / "check.sql"
    check.write_text("SELECT count(*) AS orders FROM orders;")
    assert preflight.run(check, no_warm_clone=True, **PRE)["orders"].iloc[0] > 0
    assert makers() == [] and _oid(server, spare) == made  # off: the spare is left alone
    assert preflight.run(check, **PRE)["orders"].iloc[0] > 0
    wait_for_makers()  # the taken spare is replaced in the background
    assert warm.ready(server, template) and _oid(server, spare) not in (None, made)
    (tmp_path / "up.sql").write_text("ALTER TABLE orders ADD COLUMN note text;")
    (tmp_path / "down.sql").write_text("ALTER TABLE orders DROP COLUMN note;")
    migration = migration_mod.load(tmp_path / "up.sql", down=tmp_path / "down.sql")
    report = verify_rollback(server, template, migration, warm_spare=True)
    assert report.restored and not warm.ready(server, template)  # checked on the spare, which is gone


def test_the_disk_rule_keeps_two_copies_and_the_wal_headroom_free(server, toy):
    with server.connect() as conn:
        headroom = warm_make._wal_headroom(conn)
        limit = conn.execute("SELECT pg_size_bytes(current_setting('max_wal_size'))").fetchone()[0]
        on_disk = conn.execute("SELECT sum(size) FROM pg_ls_waldir()").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(%s)", (toy,)).fetchone()[0]
    assert headroom == max(limit - on_disk, 0)
    usage = shutil.disk_usage(warm_make.data_directory(server))
    room = usage.free - size >= 2 * size + max(headroom, usage.total // warm_make.MARGIN)
    assert (warm_make.no_room(server, toy) is None) is room
