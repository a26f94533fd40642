"""Runs a migration statement by statement on its own connection, recording what each one did."""

from __future__ import annotations

import contextlib
import threading
import time

import psycopg

from rehearse.measure import catalog, extensions, lock_log, server_clock
from rehearse.measure.records import StatementRecord, record_for, reset

APPLICATION_NAME = "rehearsal-migration"
# An injected failure raises where statement k would have run: the transaction it belongs to is aborted
# exactly as a real error there would abort it.
INJECTED = (
    "DO $$ BEGIN RAISE EXCEPTION 'injected failure at statement {index} (--fail-at)' USING ERRCODE = 'P0001'; END $$"
)


class MigrationExecutor:
    """Executes `migration.transactions()` in order and stops at the first failure, like a migration tool."""

    def __init__(
        self,
        server,
        dbname: str,
        lock_timeout_ms: int | None = None,
        fail_at: int | None = None,
        lock_retries: int = 0,
        retry_pause_s: float = 0.5,
        fail_after: float | None = None,
        fail_mode: str = "cancel",
        login=None,
    ):
        """`server` is the admin connection (interrupts, the extension path); the migration logs in with
        `login` (dbserver.Roles.migration), or as the admin when None."""
        self.fail_at, self.lock_retries, self.retry_pause_s = fail_at, lock_retries, retry_pause_s
        self.fail_after, self.fail_mode = fail_after, fail_mode
        self.server, self.dbname, self.confined = server, dbname, login is not None
        login = login or server
        with lock_log.armed(server, dbname, login) as log_file:  # the server logs its lock waits exactly
            self.conn = psycopg.connect(login.url(dbname), autocommit=True, application_name=APPLICATION_NAME)
        self.lock_log = lock_log.LockWaitLog.attach(log_file, self.conn)
        self.role = self.conn.info.user
        if lock_timeout_ms:
            self.conn.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        self.pid = self.conn.info.backend_pid
        self.clock_offset = server_clock.offset(self.conn)
        self.version_num = server.version_num
        catalog.prepare(self.conn, self.version_num)

    def close(self) -> None:
        """Close the migration's connection. Interrupted mid-statement (Ctrl-C, SIGTERM), psycopg has
        already asked the server to cancel it; a backend still busy after that is terminated."""
        if not self.conn.broken and self.conn.info.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
            with contextlib.suppress(psycopg.Error), self.server.connect() as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", (self.pid,))
        self.conn.close()

    def run(self, migration, phase: str = "up", first_index: int = 1) -> list[StatementRecord]:
        """Statements numbered from `first_index` (a rollback run after the migration continues the count)."""
        records = []
        failed = False
        with _interrupter(self, phase):
            for unit in migration.transactions():
                unit_records = [record_for(stmt, phase, first_index - 1) for stmt in unit]
                records.extend(unit_records)
                if not failed and not self.conn.broken:
                    failed = not self._run_unit(unit, unit_records)
        return records

    def interrupt(self) -> None:
        """--fail-after: cancel the running statement, or terminate the migration's backend."""
        function = "pg_terminate_backend" if self.fail_mode == "terminate" else "pg_cancel_backend"
        with self.server.connect() as conn:
            conn.execute(f"SELECT {function}(%s)", (self.pid,))

    def _run_unit(self, unit, records) -> bool:
        """Run a unit; when it fails for lock_timeout (55P03), roll back and try again, pausing in between.

        Retrying a short lock_timeout is the mitigation for a lock queue: the ALTER gives up its place
        instead of making every application query wait behind it.
        """
        first_starts = None
        for attempt in range(1, self.lock_retries + 2):
            ok = self._run_unit_once(unit, records)
            first_starts = first_starts or [r.start for r in records]
            timed_out = any(r.sqlstate == "55P03" for r in records)
            if ok or not timed_out or attempt > self.lock_retries:
                break
            time.sleep(self.retry_pause_s * attempt)
            for rec in records:
                reset(rec)
        for rec, start in zip(records, first_starts):
            rec.attempts, rec.final_start = attempt, rec.start
            rec.start = start if start is not None else rec.start
        return ok

    def _run_unit_once(self, unit, records) -> bool:
        if unit[0].transaction == 0:
            return self._run_alone(unit[0], records[0])
        return self._run_transaction(unit, records)

    def _run_alone(self, stmt, rec) -> bool:
        """A statement run on its own: its locks end with it.

        One that may run in a transaction block is wrapped in BEGIN … COMMIT — the same single-statement
        transaction auto-commit gives it — so its locks can be read before they are released. CALL and DO
        are not: their body may COMMIT, which PostgreSQL allows only outside a transaction block.
        """
        if stmt.in_transaction_block and stmt.kind not in ("CALL", "DO"):
            return self._run_transaction([stmt], [rec])
        catalog.force_stats_flush(self.conn, self.version_num)
        before = catalog.snapshot(self.conn, in_transaction=False)
        ok = self._execute(stmt, rec)
        rec.tx_end, rec.tx_outcome = rec.end, "commit" if ok else "rollback"
        if not self.conn.broken:  # a terminated backend leaves nothing to measure
            catalog.force_stats_flush(self.conn, self.version_num)
            # Outside a transaction the counters are everyone's: only the tables it names can be its scans
            # (a CALL or DO names none, so all count there).
            named = {lock.relation for lock in stmt.expected_locks} or None
            self._compare(before, catalog.snapshot(self.conn, in_transaction=False), rec, named)
        return ok

    def _run_transaction(self, unit, records) -> bool:
        explicit = unit[0].kind == "BEGIN"
        if not explicit:
            self.conn.execute("BEGIN")
        held: set = set()
        born: dict = {"created": set(), "renamed": {}}  # relations created and renamed in this transaction
        ok = True
        state = [
            catalog.snapshot(self.conn, in_transaction=True)
        ]  # each statement's "after" is the next one's "before"
        for stmt, rec in zip(unit, records):
            if not ok:
                rec.status = "skipped"
                continue
            ok = self._run_in_transaction(stmt, rec, held, state, born)
        outcome, released = self._finish(unit, records, explicit, ok)
        for rec in records:
            if rec.status in ("ok", "failed"):
                rec.tx_end, rec.tx_outcome = released, outcome
        return ok

    def _run_in_transaction(self, stmt, rec, held: set, state: list, born: dict) -> bool:
        if stmt.kind in ("BEGIN", "COMMIT", "ROLLBACK"):
            ok = self._execute(stmt, rec, timed=stmt.kind != "BEGIN")
            if ok and stmt.kind == "BEGIN":  # counters are per transaction: start comparing from inside it
                state[0] = catalog.snapshot(self.conn, in_transaction=True)
            return ok
        ok = self._execute(stmt, rec, timed=True)
        if ok:
            after = catalog.snapshot(self.conn, in_transaction=True)
            # In a transaction the migration holds a lock on every table it reads, parallel workers' too:
            # a table it holds no lock on was scanned by another session (the application).
            self._compare(state[0], after, rec, {r for r, _, _ in after.locks})
            state[0] = after
            born["created"] |= set(rec.created)
            born["renamed"].update(zip(rec.renamed_to, rec.renamed_from))
            now_held = set(after.locks)
            rec.locks = [_lock(r, k, m, born) for r, k, m in sorted(now_held - held)]
            held |= now_held
        return ok

    def _finish(self, unit, records, explicit: bool, ok: bool) -> tuple[str, float]:
        """End the transaction: as written when explicit, else COMMIT on success and ROLLBACK on failure.
        The outcome, and when the locks were released (the end of COMMIT or ROLLBACK, server's clock)."""
        edges: dict = {}
        if not ok:
            if not self.conn.broken:  # after pg_terminate_backend PostgreSQL has rolled back already
                self._send("ROLLBACK", edges)
            return "rollback", edges.get("end", time.time())
        if not explicit:
            self._send("COMMIT", edges)
        released = edges["end"] if edges else records[-1].end  # an explicit block ends with its COMMIT's end
        return ("rollback" if unit[-1].kind == "ROLLBACK" else "commit"), released

    def _execute(self, stmt, rec, timed: bool = False) -> bool:
        """Run one statement; `timed` (inside a transaction block) takes its edges from the server's clock."""
        injected = rec.phase == "up" and stmt.index == self.fail_at
        rec.start, rec.ran_as = time.time(), self.role
        edges: dict = {}
        try:
            if not injected and self.confined and extensions.needs_superuser(self.server, stmt):
                rec.rows, rec.ran_as = extensions.run_as_superuser(self.server, self.dbname, stmt.sql, APPLICATION_NAME)
            else:
                sql = INJECTED.format(index=stmt.index) if injected else stmt.sql
                cur = self._send(sql, edges) if timed else self.conn.execute(sql)
                rec.rows = cur.rowcount if cur.rowcount >= 0 else None
            rec.status = "ok"
        except psycopg.Error as exc:
            rec.status = "failed"
            rec.sqlstate = exc.sqlstate
            rec.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        rec.end = edges.get("end", time.time())
        rec.start = edges.get("start", rec.start)
        lock_log.record(self.lock_log, rec)
        return rec.status == "ok"

    def _send(self, sql: str, edges: dict):
        return server_clock.execute(self.conn, sql, edges, self.clock_offset)

    def _compare(self, before: catalog.Snapshot, after: catalog.Snapshot, rec: StatementRecord, mine=None) -> None:
        rels0, counters0, lsn0 = before.relations, before.counters, before.lsn
        rels1, counters1, lsn1 = after.relations, after.counters, after.lsn
        rec.rewritten = sorted(name for name, info in rels1.items() if name in rels0 and rels0[name][1] != info[1])
        rec.created, renamed = catalog.created_and_renamed(rels0, rels1)
        rec.renamed_from, rec.renamed_to = [old for old, _ in renamed], [new for _, new in renamed]
        rec.size_delta_bytes = sum(v[2] for v in rels1.values()) - sum(v[2] for v in rels0.values())
        rec.scanned = [t for t in catalog.full_scans(rels0, counters0, counters1) if mine is None or t in mine]
        rec.dead_tuples = sum(c[2] - counters0.get(name, (0, 0, 0))[2] for name, c in counters1.items())
        rec.wal_bytes = catalog.wal_bytes_between(self.conn, lsn0, lsn1)


def _lock(relation: str, relkind: str, mode: str, born: dict) -> dict:
    """A lock as the application sees it: under the name it knew, marked when on a relation no one else sees."""
    own = relation in born["created"]
    original = born["renamed"].get(relation)
    return dict(
        relation=original or relation,
        relkind=relkind,
        mode=mode,
        own=own,
        renamed_to=relation if original else None,
    )


@contextlib.contextmanager
def _interrupter(executor: MigrationExecutor, phase: str):
    """A timer that interrupts the migration `fail_after` seconds after it starts (up phase only)."""
    if executor.fail_after is None or phase != "up":
        yield
        return
    timer = threading.Timer(executor.fail_after, executor.interrupt)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
