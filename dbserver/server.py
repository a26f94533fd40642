"""Which PostgreSQL a rehearsal uses: the embedded one by default, or any server given by URL."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import cached_property

import psycopg

from common.errors import BadInput, ServerUnavailable
from dbserver import dsn as dsnlib
from dbserver import embedded, local

MIN_VERSION = 130000


@dataclass(frozen=True)
class Server:
    """A reachable PostgreSQL: its maintenance URL and whether our code started it."""

    dsn: str
    embedded: bool
    label: str | None = None  # how to show it when the URL says little (a local installation's socket)

    def url(self, dbname: str) -> str:
        return dsnlib.with_database(self.dsn, dbname)

    def connect(self, dbname: str | None = None, autocommit: bool = True, **kwargs) -> psycopg.Connection:
        target = self.url(dbname) if dbname else self.dsn
        return psycopg.connect(target, autocommit=autocommit, **kwargs)

    def as_role(self, user: str, password: str | None = None) -> Server:
        """The same server, logged in as `user` (shown masked like every URL: the password never is)."""
        parts = {k: v for k, v in psycopg.conninfo.conninfo_to_dict(self.dsn).items() if k != "password"}
        parts.update(user=user, **({"password": password} if password else {}))
        return dataclasses.replace(self, dsn=psycopg.conninfo.make_conninfo("", **parts))

    @cached_property
    def version_num(self) -> int:
        with self.connect() as conn:
            return int(conn.execute("SHOW server_version_num").fetchone()[0])

    @cached_property
    def version(self) -> str:
        with self.connect() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    @property
    def display(self) -> str:
        if self.label:
            return self.label
        return "embedded PostgreSQL" if self.embedded else dsnlib.mask(self.dsn)

    def postmaster_pid(self) -> int | None:
        """The server's main PID when it runs on this machine (for CPU sampling), else None."""
        if self.embedded:
            return embedded.running_pid()
        with self.connect() as conn:
            data_dir = _setting(conn, "data_directory")
        return _local_pid(data_dir)


def open_server(dsn: str | None = None, postgres_bin: str | None = None) -> Server:
    """The server to use: `dsn`, else the local installation in `postgres_bin` (started under
    data/postgres-<major> if needed), else $REHEARSAL_DSN, else the embedded one (started if needed)."""
    if dsn and postgres_bin:
        raise BadInput(
            "give either --dsn or --postgres-bin, not both: one names a running server, "
            "the other an installation to start"
        )
    if postgres_bin:
        server = Server(dsn=local.start(postgres_bin), embedded=False, label=f"local PostgreSQL from {postgres_bin}")
        _check_reachable(server)
        return server
    dsn = dsn or os.environ.get("REHEARSAL_DSN")
    if dsn:
        dsnlib.parse(dsn)
        server = Server(dsn=dsn, embedded=False)
    else:
        server = Server(dsn=embedded.start(), embedded=True)
    _check_reachable(server)
    return server


def _check_reachable(server: Server) -> None:
    try:
        version = server.version_num
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())
        raise ServerUnavailable(
            f"cannot connect to {dsnlib.mask(server.dsn)}: {reason}; check the URL given with --dsn or REHEARSAL_DSN"
        ) from None
    if version < MIN_VERSION:
        raise ServerUnavailable(f"PostgreSQL {server.version} is too old: 13 or newer is needed")


def _setting(conn: psycopg.Connection, name: str) -> str | None:
    try:
        return conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]
    except psycopg.Error:
        return None  # data_directory is readable only by superusers and pg_read_all_settings


def _local_pid(data_dir: str | None) -> int | None:
    from pathlib import Path

    import psutil

    if not data_dir or not (Path(data_dir) / "postmaster.pid").exists():
        return None
    pid = int((Path(data_dir) / "postmaster.pid").read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None
