"""Alembic revisions as SQL: Alembic's own offline mode (`alembic upgrade head --sql`), split by pglast.

* A folder holding `alembic.ini` (its `script_location` says where env.py is), or `env.py` and `versions/`
  (the folder is the script location), is an Alembic project.
* Alembic runs in a child Python process whose working directory is that folder, as `alembic` is run by the
  team: relative paths and `prepend_sys_path` in alembic.ini resolve as they do for them, and env.py's
  logging setup and imports stay out of the engine's process. The child calls
  `command.upgrade(cfg, "head", sql=True)` and `command.downgrade(cfg, "head:base", sql=True)` with
  `sqlalchemy.url` set to a PostgreSQL URL. Offline mode needs only the dialect and never connects, so the
  URL names no real database; the SQL it emits is what the engine then runs on the scratch database,
  statement by statement, like any other migration.
* BEGIN;/COMMIT; stay as Alembic wrote them: one pair around the run, or one per revision with
  `transaction_per_migration=True`. Statements outside them (an `autocommit_block()`) run on their own.
* Each statement is attributed to the revision file whose upgrade()/downgrade() emitted it (line: that
  function's `def`); the preamble (BEGIN, CREATE TABLE alembic_version) to env.py.
* The alembic_version bookkeeping (CREATE TABLE, INSERT/UPDATE/DELETE) stays in: production runs it in the
  same transactions. Since the scratch copy has no Alembic history, the up creates that table, and
  `alembic downgrade base` would leave it behind; the rollback therefore ends with a DROP TABLE of it,
  added by the rehearsal (the notes say so), so a good round trip restores the baseline.
* Limit: offline mode runs each revision's Python but no SQL; `op.get_bind()` has no connection. A data
  migration that needs query results (`op.get_bind().execute(…).fetchall()`) makes Alembic raise, and that
  becomes BadInput naming the revision file and line. Rehearse such a revision by writing the step as SQL
  (`op.execute`), skipping it when `context.is_offline_mode()`, or rehearsing its SQL as an up.sql.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from common.errors import BadInput
from rehearse.sql import parse as _sqlparse
from rehearse.sql.script import Layout, Script

OFFLINE_URL = "postgresql+psycopg://rehearsal@localhost/offline"  # the dialect only: offline mode never connects
TIMEOUT_S = 120
_ROOT = str(Path(__file__).resolve().parents[3])
_CHILD = (
    "import sys; sys.path.append(sys.argv.pop(1)); "  # argv: the engine's root, then child()'s arguments
    "from rehearse.sql.readers.alembic import child; child(*sys.argv[1:])"
)
_VERSION_AT = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);\n"
    "INSERT INTO alembic_version (version_num) VALUES ('{start}');\n"
)
_RUNNING = re.compile(r"-- Running (upgrade|downgrade) (.*?) ->(.*)")


def layout(folder: Path, start: str | None = None, end: str | None = None) -> Layout:
    """The project's upgrade to head (or from `start` to `end`) as the up, its downgrade back as the down.

    From a `start` revision the copy has no Alembic history, so the up begins by creating the version table
    at `start` (credited to env.py), as the production database has it."""
    out = _offline(folder, start or "", end or "")
    if start:
        out["up"] = _VERSION_AT.format(start=start.replace("'", "''")) + out["up"]
    up = _script(folder, out, "upgrade", out["up"])
    table = _version_table(up)
    down = _script(folder, out, "downgrade", out["down"], tail=f"DROP TABLE {table};\n" if table else "")
    notes = [
        f"SQL from Alembic {out['alembic']} offline mode (alembic upgrade head --sql); "
        + (f"its {table} bookkeeping is kept, as production runs it" if table else "no version table is created in it")
    ]
    down_notes = (
        [
            f"ends with DROP TABLE {table}, added by the rehearsal: the up created it on a copy with no "
            "Alembic history, and alembic downgrade base leaves it behind"
        ]
        if table
        else []
    )
    down_notes += _idle_downgrades(down, table or "alembic_version")
    return Layout(folder.name, (up,), (down,), tuple(notes), tuple(down_notes))


def _offline(folder: Path, start: str = "", end: str = "") -> dict:
    """Run Alembic offline in a child process; what it emitted, or BadInput with Alembic's error."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "alembic.json"
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # no __pycache__ left in the team's versions/
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, _ROOT, str(folder.resolve()), str(result), start, end],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise BadInput(
                f"{folder}: Alembic's offline mode did not finish in {TIMEOUT_S} s; "
                "check that `alembic upgrade head --sql` ends when run there"
            ) from None
        if not result.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BadInput(
                f"{folder}: Alembic could not run ({last}); check that `alembic upgrade head --sql` works there"
            )
        out = json.loads(result.read_text())
    if "error" in out:
        raise BadInput(_failure(folder, out["error"]))
    return out


def _failure(folder: Path, error: dict) -> str:
    if error["command"]:
        return (
            f"{folder}: Alembic: {error['message']}; fix the project so that "
            "`alembic upgrade head --sql` and `alembic downgrade head:base --sql` work in it"
        )
    where = _shown(folder, error["where"]) if error["where"] else str(folder)
    if error.get("fix"):
        return f"{where}: {error['type']}: {error['message']}; {error['fix']}"
    return (
        f"{where}: Alembic's offline mode failed ({error['type']}: {error['message']}); offline mode runs "
        "the revisions' Python but no SQL, so a step that needs query results (op.get_bind().execute(…)"
        ".fetchall()) cannot be rehearsed: write it as SQL (op.execute) or skip it when "
        "context.is_offline_mode()"
    )


def _script(folder: Path, out: dict, direction: str, text: str, tail: str = "") -> Script:
    """Alembic's output (and the rehearsal's `tail`, from env.py) as one Script, each part attributed to its
    file and checked by the parser."""
    env = (_shown(folder, out["env"]), out["env_line"])
    lines = text.split("\n")
    origins = [(1, *env)]
    for i, line in enumerate(lines):
        m = _RUNNING.fullmatch(line.strip())
        revision = m and (m[3] if direction == "upgrade" else m[2]).split(",")[0].strip()
        if revision in out["revisions"]:
            info = out["revisions"][revision]
            origins.append((_part_start(lines, i), _shown(folder, info["path"]), info[direction]))
    if tail:
        origins.append((len(lines) + 1, *env))
        lines += tail.split("\n")
    script = Script("\n".join(lines), f"{folder} (alembic {direction} --sql)", autocommit=True, origins=tuple(origins))
    for first, last, source in _parts(script, len(lines)):
        _sqlparse.parse("\n".join(lines[first - 1 : last]), f"{source} ({direction} SQL from Alembic)")
    return script


def _part_start(lines: list[str], i: int) -> int:
    """1-based first line of a revision's part: its `-- Running` comment, or the BEGIN just before it."""
    j = i - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return j + 1 if j >= 0 and lines[j].strip().upper() == "BEGIN;" else i + 1


def _parts(script: Script, n_lines: int) -> list[tuple[int, int, str]]:
    """(first line, last line, source) of each attributed part of the script."""
    starts = [first for first, _, _ in script.origins] + [n_lines + 1]
    return [(first, nxt - 1, source) for (first, source, _), nxt in zip(script.origins, starts[1:])]


def _version_table(up: Script) -> str | None:
    """The table the preamble creates (alembic_version unless env.py names another)."""
    first, last, _ = _parts(up, up.text.count("\n") + 1)[0]
    preamble = "\n".join(up.text.split("\n")[first - 1 : last])
    for piece in _sqlparse.parse(preamble, "preamble"):
        relation = getattr(piece.node, "relation", None)
        if type(piece.node).__name__ == "CreateStmt" and relation is not None:
            return f"{relation.schemaname}.{relation.relname}" if relation.schemaname else relation.relname
    return None


def _idle_downgrades(down: Script, table: str) -> list[str]:
    """Notes for revisions whose downgrade() emits nothing but the version bookkeeping."""
    bookkeeping = re.compile(rf"(begin|commit|(insert into|update|delete from)\s+{re.escape(table)}\b)", re.I)
    lines, notes = down.text.split("\n"), []
    for first, last, source in _parts(down, len(lines))[1:]:
        pieces = _sqlparse.parse("\n".join(lines[first - 1 : last]), source)
        if source.endswith(".py") and all(bookkeeping.match(p.sql) for p in pieces):
            notes.append(f"{source}: downgrade() changes nothing but {table}; its upgrade is not undone")
    return notes


def _shown(folder: Path, path: str) -> str:
    """A path from the child (absolute) as the user named the folder: tests/…/versions/0001_x.py."""
    name, _, line = path.rpartition(":") if re.search(r":\d+$", path) else (path, "", "")
    try:
        shown = str(folder / Path(name).relative_to(folder.resolve()))
    except ValueError:
        shown = name
    return f"{shown}:{line}" if line else shown


def child(folder: str, result: str, start: str = "", end: str = "") -> None:
    """In the child process: run Alembic offline both ways (base or `start` to head or `end`); write what it
    emitted, or its error, as JSON."""
    from alembic import __version__, command
    from alembic.config import Config

    ini = Path(folder, "alembic.ini")
    cfg = Config(str(ini)) if ini.is_file() else Config()
    if not ini.is_file():
        cfg.set_main_option("script_location", folder)
    cfg.set_main_option("sqlalchemy.url", OFFLINE_URL)
    try:
        out = dict(
            alembic=__version__,
            up=_emitted(
                cfg, lambda: command.upgrade(cfg, f"{start}:{end or 'head'}" if start else end or "head", sql=True)
            ),
            down=_emitted(cfg, lambda: command.downgrade(cfg, f"{end or 'head'}:{start or 'base'}", sql=True)),
            **_describe(cfg),
        )
    except Exception as exc:  # noqa: BLE001 — whatever env.py or a revision raises is reported, not a crash
        out = dict(error=_error(exc, folder))
    Path(result).write_text(json.dumps(out))


def _emitted(cfg, run) -> str:
    import io

    cfg.output_buffer = io.StringIO()  # offline mode writes its SQL here (EnvironmentContext.configure)
    run()
    return cfg.output_buffer.getvalue()


def _describe(cfg) -> dict:
    """Each revision's file and the lines of its upgrade()/downgrade(); env.py and its run_migrations() line."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(cfg)
    revisions = {
        sc.revision: dict(
            path=os.path.abspath(sc.path),
            upgrade=_def_line(sc.module, "upgrade"),
            downgrade=_def_line(sc.module, "downgrade"),
        )
        for sc in scripts.walk_revisions()
    }
    env = Path(os.path.abspath(scripts.dir), "env.py")
    text = env.read_text().split("\n") if env.is_file() else []
    line = next((i + 1 for i, t in enumerate(text) if "run_migrations(" in t and "def " not in t), 1)
    return dict(revisions=revisions, env=str(env), env_line=line)


def _def_line(module, name: str) -> int:
    code = getattr(getattr(module, name, None), "__code__", None)
    return code.co_firstlineno if code else 1


def _error(exc: Exception, folder: str) -> dict:
    import traceback

    from alembic.util import CommandError

    root = str(Path(folder).resolve())
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.isfile(f.filename) and os.path.abspath(f.filename).startswith(root)  # not <frozen …>
    ]
    message = (str(exc).strip().splitlines() or [""])[0]
    return dict(
        type=type(exc).__name__,
        message=message,
        command=isinstance(exc, CommandError),
        where=f"{os.path.abspath(frames[-1].filename)}:{frames[-1].lineno}" if frames else None,
    ) | _revision_error(exc, root)


def _revision_error(exc: Exception, root: str) -> dict:
    """A revision file that is not valid Python, or has no down_revision: named with its file, and the fix."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return dict(where=f"{os.path.abspath(exc.filename)}:{exc.lineno}", fix="fix the Python syntax of this revision")
    missing = re.search(r"module '(.+?)_py' has no attribute '(down_revision|revision)'", str(exc))
    if missing:
        found = sorted(Path(root).rglob(f"{missing[1]}.py"))
        where = f"{found[0]}:1" if found else None
        fix = f"the revision has no {missing[2]}; add it (down_revision = None for the first revision)"
        return dict(where=where, fix=fix)
    return {}
