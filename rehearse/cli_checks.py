"""Checks of a command line made before any work starts: the files it will write can be written, the
files it reads are text, the data folder is writable. Each failure is a BadInput naming problem and fix,
so a run never ends, after minutes of rehearsal, on a path it could not write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from common.errors import BadInput
from common.paths import data_dir

OUTPUTS = ("json", "junit")  # flags naming a file the command writes
TEXT_INPUTS = ("setup", "app_queries", "thresholds")  # flags naming a text file the command reads
WRITES_DATA = ("run", "check", "datagen", "report")  # commands that write under data/


def check(args) -> None:
    """Every check that applies to the parsed arguments of one command."""
    for name in OUTPUTS:
        if getattr(args, name, None):
            writable_file(getattr(args, name), "--" + name)
    if args.command in ("run", "plan", "check"):
        migration_path(args.path)
        if getattr(args, "down", None):
            migration_path(args.down, "--down ")
    for name in TEXT_INPUTS:
        value = getattr(args, name, None)
        if value and value != "workload":  # --app-queries workload: the app's own queries, no file
            text_file(value, "--" + name.replace("_", "-"))
    if args.command in WRITES_DATA:
        writable_data_dir()


def writable_file(path: str, flag: str) -> None:
    """`path` can be created or overwritten as a file."""
    target = Path(path)
    if target.is_dir():
        raise BadInput(f"{flag} {path}: is a folder; give a file name, e.g. {target / 'out'}{target.suffix or ''}")
    folder = target.parent
    if not folder.is_dir():
        raise BadInput(f"{flag} {path}: folder {folder} does not exist; create it first or write elsewhere")
    if not _can_write(target if target.exists() else folder):
        raise BadInput(f"{flag} {path}: cannot write there (permission denied); choose a writable place")


def migration_path(path: str, flag: str = "") -> None:
    """A migration is a file or a folder: not a device, a FIFO or a socket (reading one blocks or finds nothing)."""
    target = Path(path)
    if not target.exists():
        raise BadInput(f"{flag}{path}: no such file or folder; give a .sql file or a migration folder")
    if not target.is_dir() and not stat.S_ISREG(target.stat().st_mode):
        raise BadInput(
            f"{flag}{path}: not a regular file (a device, FIFO or socket); give a .sql file or a migration folder"
        )


def text_file(path: str, flag: str) -> None:
    """`path` is a regular file of UTF-8 text."""
    target = Path(path)
    if not target.is_file():
        raise BadInput(f"{flag} {path}: no such file; give an existing text file")
    head = target.open("rb").read(1 << 16)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the 64 KiB boundary
            raise BadInput(f"{flag} {path}: not UTF-8 text (byte {exc.start}); give a text file") from None
    if b"\0" in head:
        raise BadInput(f"{flag} {path}: binary content (NUL bytes); give a text file")


def writable_data_dir() -> None:
    """data/ (or $REHEARSAL_DATA_DIR) is a folder this process can write, or can be created."""
    where = data_dir()
    existing = next(p for p in (where, *where.parents) if p.exists())
    if not existing.is_dir() or not _can_write(existing):
        raise BadInput(
            f"data folder {where} is not writable ({existing} is "
            f"{'not a folder' if not existing.is_dir() else 'read-only'}); "
            "point REHEARSAL_DATA_DIR at a writable folder"
        )


def _can_write(path: Path) -> bool:
    """os.access, plus a real attempt for folders: root passes os.access on a read-only mount."""
    if not os.access(path, os.W_OK):
        return False
    if path.is_file():
        try:
            with path.open("ab"):  # appends nothing: the file stays as it is
                return True
        except OSError:
            return False
    if path.is_dir():
        probe = path / f".rehearse-write-test-{os.getpid()}"
        try:
            probe.touch()
            probe.unlink()
        except OSError:
            return False
    return True
