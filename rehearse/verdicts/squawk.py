"""squawk's linter findings on the migration's files, when the `squawk` binary (PyPI: squawk-cli) is there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from rehearse.verdicts.base import Hit

SOURCE = "static (squawk)"
_TIMEOUT_S = 60


def find() -> str | None:
    """squawk on PATH, or beside this Python (a venv's bin/ is often not on PATH when run as .venv/bin/python)."""
    beside = Path(sys.executable).with_name("squawk")
    return shutil.which("squawk") or (str(beside) if beside.is_file() else None)


def hits(migration, pg_version: str | None = None, level: str = "green") -> tuple[list[Hit], str]:
    """(hits, status): status is 'not installed', 'ran on N file(s): M finding(s)' or 'failed: …'."""
    exe = find()
    if exe is None:
        return [], "not installed"
    found: list[Hit] = []
    for source in migration.sources:
        try:
            reports = _run(exe, source, pg_version, _in_transaction(migration, source))
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            return [], f"failed: {exc}"
        found += [_hit(migration, source, r, level) for r in reports]
    return found, f"ran on {len(migration.sources)} file(s): {len(found)} finding(s)"


def _run(exe: str, source: str, pg_version: str | None, in_transaction: bool) -> list[dict]:
    args = [exe, "--reporter", "json"]
    args += ["--pg-version", pg_version] if pg_version else []
    args += ["--assume-in-transaction"] if in_transaction else []
    done = subprocess.run([*args, source], capture_output=True, text=True, timeout=_TIMEOUT_S)
    # squawk exits 1 when it has findings; anything it could not read shows as empty stdout.
    if not done.stdout.strip():
        raise ValueError((done.stderr.strip() or f"exit {done.returncode}, no output").splitlines()[0])
    return json.loads(done.stdout)


def _in_transaction(migration, source: str) -> bool:
    """Whether the engine wraps the file's statements in a transaction (so squawk should assume one)."""
    return any(st.source == source and st.transaction for st in migration.statements)


def _hit(migration, source: str, report: dict, level: str) -> Hit:
    rule = report.get("rule_name", "unknown")
    advice = f" ({report['help']})" if report.get("help") else ""
    return Hit(
        f"squawk:{rule}",
        level,
        f"{SOURCE} {rule}: {report.get('message', '')}{advice}",
        _statement_at(migration, source, report.get("line", 0) + 1),
        SOURCE,
    )  # squawk counts lines from 0


def _statement_at(migration, source: str, line: int) -> int | None:
    """The index of the statement of `source` that starts at or before `line`."""
    mine = [st for st in migration.statements if st.source == source and st.line <= line]
    return mine[-1].index if mine else None
