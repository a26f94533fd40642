"""The migration's lock waits read from the server's log (rehearse.measure.lock_log), on the embedded server."""

from __future__ import annotations

import threading

import pytest

import dbserver
from rehearse.measure import lock_log
from rehearse.measure.executor import MigrationExecutor


def test_the_migrations_session_alone_logs_its_waits_and_they_are_read(server, empty_db):
    if lock_log.log_file(server) is None:
        pytest.skip("the tool did not start this server: its log is not ours to read")
    roles = dbserver.ensure_roles(server)
    dbserver.hand_over(server, roles, empty_db)
    with roles.migration.connect(empty_db) as conn:
        conn.execute("CREATE TABLE t (x int)")
    executor = MigrationExecutor(server, empty_db, login=roles.migration)
    try:
        assert executor.lock_log is not None
        with roles.migration.connect(empty_db) as other:  # the role's later sessions keep the defaults
            assert other.execute("SHOW deadlock_timeout").fetchone()[0] != "1ms"
        with server.connect(empty_db, autocommit=False) as holder:
            holder.execute("LOCK t IN ACCESS SHARE MODE")
            threading.Timer(0.05, holder.commit).start()
            executor.conn.execute("BEGIN")
            executor.conn.execute("LOCK t IN ACCESS EXCLUSIVE MODE")
            executor.conn.execute("COMMIT")
        (wait,) = executor.lock_log.read()
        assert wait.mode == "AccessExclusiveLock" and wait.on_relation
        assert 40 <= wait.ms <= 2000  # the holder committed 50 ms on
        assert executor.lock_log.read() == []  # each line is read once
    finally:
        executor.close()
