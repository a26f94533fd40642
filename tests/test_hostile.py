"""The hostile-user probe list as data: every bad input ends in one line `FAILED: <problem>; <fix>`, exit 2,
before any rehearsal starts, and never shows a password."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from rehearse.cli import main
from rehearse.verdicts.judge import verdict

ALEMBIC = Path(__file__).parent / "fixtures" / "alembic_project"
SECRET = "S3kr1tPW"
URL = f"postgresql://admin:{SECRET}@db.example.invalid:5432/prod"
FAST = ["--scale", "0.001", "--rate", "20", "--warmup", "0", "--cooldown", "0"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Inputs the probes point at: {name: path}."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "ok.sql").write_text("ALTER TABLE orders ADD COLUMN note text;\n")
    (root / "binary.sql").write_bytes(bytes(range(256)) * 4)
    (root / "meta.sql").write_text("SELECT 1;\n\\i other.sql\n")
    (root / "flyway").mkdir()
    (root / "flyway" / "v1_add_note.sql").write_text("SELECT 1;\n")
    (root / "a folder").mkdir()
    os.mkfifo(root / "fifo.sql")
    for name, change in (("alembic-syntax", _break_syntax), ("alembic-no-down", _drop_down_revision)):
        shutil.copytree(ALEMBIC, root / name)
        change(root / name / "versions" / "0002_index_order_note.py")
    run = root / "runs" / "20260101-000000-damaged-0000"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text('{"run_id": "20260101-000000-damaged-0000", ')
    return {p.name: str(p) for p in root.iterdir()} | {"damaged run": str(run), "root": str(root)}


def _break_syntax(path: Path) -> None:
    path.write_text(path.read_text() + "\ndef broken(:\n    pass\n")


def _drop_down_revision(path: Path) -> None:
    path.write_text("".join(line for line in path.read_text().splitlines(True) if "down_revision" not in line))


# (probe, arguments with {name} placeholders for `files`, exit code, fragment of the one line)
PROBES = [
    ("password in an unknown option", "plan {ok.sql} --dsn " + URL, 2, "--dsn postgresql://admin:***@"),
    ("password after a typo", "plan {ok.sql} --dns " + URL, 2, "unrecognized arguments: --dns postgresql://admin:***@"),
    ("password given to report", "report some-run --dsn " + URL, 2, "postgresql://admin:***@"),
    ("unreachable server", "run {ok.sql} --dsn " + URL.replace("5432", "1") + " --scale 0.001", 2, "cannot connect"),
    ("--json into a missing folder", "run {ok.sql} --json /nonexistent/out.json", 2, "folder /nonexistent does not exist"),
    ("--json onto a folder", "run {ok.sql} --json {a folder}", 2, "is a folder"),
    ("--json where nobody writes", "run {ok.sql} --json /proc/out.json", 2, "cannot write there"),
    ("plan --json into a missing folder", "plan {ok.sql} --json /nonexistent/plan.json", 2, "does not exist"),
    ("check --junit into a missing folder", "check {ok.sql} --junit /nonexistent/gate.xml", 2, "does not exist"),
    ("--clients past the static bound", "run {ok.sql} --clients 10000", 2, "clients must be at most 1000"),
    ("--clients past max_connections", "run {ok.sql} --clients 900 --scale 0.001", 2, "more than the server can take"),
    ("negative --lock-timeout", "run {ok.sql} --lock-timeout -1", 2, "lock_timeout must be a whole number of milli"),
    ("negative --app-lock-timeout", "run {ok.sql} --app-lock-timeout -5", 2, "app_lock_timeout must be"),
    ("--rate past what the app sends", "run {ok.sql} --rate 1e9", 2, "rate must be at most"),
    ("negative --warmup", "run {ok.sql} --warmup -1", 2, "warmup must be a number of seconds"),
    ("binary --setup", "run {ok.sql} --setup {binary.sql}", 2, "--setup"),
    ("plan /dev/null", "plan /dev/null", 2, "not a regular file"),
    ("plan a FIFO", "plan {fifo.sql}", 2, "not a regular file"),
    ("a missing migration", "plan {root}/nothing.sql", 2, "no such file or folder"),
    ("report of a damaged run", "report {damaged run}", 2, "is damaged"),
    ("report of an unknown run folder", "report data/runs/nosuchrun", 2, "no saved run"),
    ("psql meta-command", "plan {meta.sql}", 2, "\\i is a psql meta-command"),
    ("misnamed Flyway files", "plan {flyway}", 2, "v1_add_note.sql is not named like Flyway files"),
    ("unknown production table", "run {ok.sql} --scales 0.001,0.002,0.003 --production-rows nosuchtable=5", 2,
     "names public.nosuchtable, not a dataset table"),
    ("a scale the disk cannot hold", "datagen --scale 100", 2, "of disk but"),
    ("Alembic syntax error", "plan {alembic-syntax}", 2, "0002_index_order_note.py:"),
    ("Alembic revision without down_revision", "plan {alembic-no-down}", 2, "has no down_revision; add it"),
    ("--debug keeps the exit code", "--debug plan /dev/null", 2, "not a regular file"),
]  # fmt: skip


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors leave through Parser.error
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("probe, args, code, fragment", PROBES, ids=[p[0] for p in PROBES])
def test_probe(probe, args, code, fragment, files, capsys):
    argv = _split(args, files)
    got, out, err = _cli(argv, capsys)
    failed = [line for line in err.splitlines() if line.startswith("FAILED: ")]
    assert got == code, err
    assert len(failed) == 1 and fragment in failed[0], err
    assert "; " in failed[0]  # the problem, then the fix
    assert SECRET not in out + err
    if not args.startswith("--debug"):
        assert err.count("\n") == 1 and "Traceback" not in err
    else:
        assert "Traceback" in err


def _split(args: str, files: dict) -> list[str]:
    """Split on spaces, keeping placeholders whole (a path may contain a space: {a folder})."""
    for name, path in files.items():
        args = args.replace("{" + name + "}", path.replace(" ", "\0"))
    return [a.replace("\0", " ") for a in args.split(" ")]


def test_unwritable_data_folder_is_one_line(files, tmp_path):
    env = os.environ | {"REHEARSAL_DATA_DIR": "/proc/rehearse-data", "PYTHONPATH": os.getcwd()}
    res = subprocess.run(
        [sys.executable, "-m", "rehearse.cli", "run", files["ok.sql"], *FAST],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 2, res.stderr
    assert (
        res.stderr.startswith("FAILED: data folder /proc/rehearse-data is not writable") and res.stderr.count("\n") == 1
    )


def test_no_output_file_is_half_written(files, tmp_path, capsys):
    out = tmp_path / "out.json"
    code, _, _ = _cli(["run", files["ok.sql"], "--json", str(out), "--clients", "10000"], capsys)
    assert code == 2 and not out.exists()


def test_workload_short_of_its_rate_is_a_verdict_warning():
    def summary(achieved):
        return {"statements": [], "target_rate": 1000.0, "workload": {"before": {"tx_per_s": achieved}}}

    short = verdict(summary(120.0), squawk=False)
    assert "W001-workload-short-of-rate" in short.finding_ids and short.level == "amber"
    assert any("120 tx/s of the 1,000" in r for r in short.reasons)
    assert "W001-workload-short-of-rate" not in verdict(summary(990.0), squawk=False).finding_ids
    assert json.dumps(short.to_dict())  # still a JSON-able verdict


def test_role_without_createdb_is_one_line(server, files, capsys):
    role, password = f"rehearse_nocreatedb_{secrets.token_hex(3)}", f"Pw{secrets.token_hex(8)}"
    with server.connect() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD '{password}'")
    try:
        parts = psycopg.conninfo.conninfo_to_dict(server.dsn)
        url = f"postgresql://{role}:{password}@/postgres?host={parts['host']}" + (
            f"&port={parts['port']}" if parts.get("port") else ""
        )
        code, out, err = _cli(["run", files["ok.sql"], "--dsn", url, *FAST], capsys)
    finally:
        with server.connect() as conn:
            conn.execute(f"DROP ROLE {role}")
    assert code == 2 and err.startswith(f"FAILED: role {role} may not create databases") and err.count("\n") == 1
    assert "CREATEDB" in err.split("; ", 1)[1] and password not in out + err
