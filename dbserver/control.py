"""`rehearse server start|stop|status` as functions: each returns the lines it has to say."""

from __future__ import annotations

from dbserver import embedded, local
from dbserver.server import open_server


def start(postgres_bin: str | None = None) -> list[str]:
    """Start (or reuse) the embedded server, or the local installation at `postgres_bin`."""
    if postgres_bin:
        major = local.major_version(postgres_bin)  # a directory without PostgreSQL: BadInput
        server = open_server(postgres_bin=postgres_bin)
        return [f"PostgreSQL {server.version} running, data in {local.pgdata(major)}"]
    server = open_server(None)
    return [f"embedded PostgreSQL {server.version} running, data in {embedded.pgdata()}"]


def stop(postgres_bin: str | None = None) -> list[str]:
    """Stop the local installation at `postgres_bin`; without it, the embedded server and every local one."""
    if postgres_bin:
        major = local.major_version(postgres_bin)
        return [f"PostgreSQL {major} stopped" if local.stop(major) else f"PostgreSQL {major} was not running"]
    lines = ["embedded PostgreSQL stopped" if embedded.stop() else "embedded PostgreSQL was not running"]
    return lines + [f"PostgreSQL {major} ({local.pgdata(major)}) stopped" for major in local.stop()]


def status(postgres_bin: str | None = None) -> list[str]:
    """Whether the embedded server (or the local installation at `postgres_bin`) runs, and its pid."""
    if postgres_bin:
        major = local.major_version(postgres_bin)
        pid, where = local.running_servers().get(major), local.pgdata(major)
        return [
            f"PostgreSQL {major} running (pid {pid}), data in {where}" if pid else f"PostgreSQL {major} not running"
        ]
    pid = embedded.running_pid()
    return [f"embedded PostgreSQL running (pid {pid})" if pid else "embedded PostgreSQL not running"]
