"""Passwords never shown: masked in SQL by the parse tree, in option errors, and in every output of a run
that connected with a password in its URL."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psycopg
import pytest

import datagen
from common.paths import data_dir
from rehearse.sql.migration import load, split
from rehearse.sql.plan import Plan
from rehearse.sql.secrets import mask

CASES = [
    ("CREATE ROLE app LOGIN PASSWORD 'sekret'", "CREATE ROLE app LOGIN PASSWORD '***'"),
    ("ALTER USER app WITH ENCRYPTED PASSWORD $$sekret$$ VALID UNTIL 'infinity'", "PASSWORD '***' VALID UNTIL 'infinity'"),
    ("ALTER ROLE app PASSWORD E'sek\\'ret'", "PASSWORD '***'"),
    ("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'u', password 'sekret')", "(user 'u', password '***')"),
    ("ALTER USER MAPPING FOR app SERVER s OPTIONS (SET password 'sekret')", "(SET password '***')"),
    ("SELECT * FROM dblink('host=h user=u password=sekret', 'SELECT 1') AS t(a int)", "password=***"),
    ("SELECT dblink_connect('c', 'postgresql://u:sekret@h/d')", "password=***"),
    ("CREATE SUBSCRIPTION s CONNECTION 'host=h password=sekret' PUBLICATION p", "password=***"),
]  # fmt: skip


@pytest.mark.parametrize("sql, shown", CASES, ids=[c[0][:24] for c in CASES])
def test_mask_hides_the_password_and_keeps_the_statement(sql, shown):
    masked = mask(sql)
    assert "sekret" not in masked and shown in masked
    assert split(masked)  # still one statement PostgreSQL's parser accepts


def test_mask_leaves_other_sql_alone():
    for sql in ("UPDATE users SET password = 'not a secret option'", "SELECT dblink('conn', 'SELECT 1')"):
        assert mask(sql) == sql


def test_plan_text_and_json_hide_a_role_password(tmp_path):
    path = tmp_path / "up.sql"
    path.write_text("CREATE ROLE reporting LOGIN PASSWORD 'sekret';\nALTER TABLE orders ADD COLUMN note text;\n")
    out = tmp_path / "plan.json"
    res = subprocess.run(
        [sys.executable, "-m", "rehearse.cli", "plan", str(path), "--json", str(out)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "PASSWORD '***'" in res.stdout and "sekret" not in res.stdout + res.stderr + out.read_text()
    plan = Plan(load(path))
    assert "sekret" not in json.dumps(plan.to_dict()) + plan.to_text()


@pytest.fixture
def password_url(server):
    """A URL to the test server carrying a real password: a superuser role made for this test, then dropped."""
    datagen.build(scale=0.001, seed=42, server=server)  # built as the usual role: the test role owns nothing after
    role, password = f"rehearse_pw_{secrets.token_hex(3)}", f"Pw{secrets.token_hex(8)}"
    with server.connect() as conn:
        conn.execute(f"CREATE ROLE {role} SUPERUSER LOGIN PASSWORD '{password}'")
    parts = psycopg.conninfo.conninfo_to_dict(server.dsn)
    query = f"?host={parts['host']}" + (f"&port={parts['port']}" if parts.get("port") else "")
    yield f"postgresql://{role}:{password}@/{parts.get('dbname', 'postgres')}{query}", password
    with server.connect() as conn:
        conn.execute(f"REASSIGN OWNED BY {role} TO CURRENT_USER")
        conn.execute(f"DROP ROLE {role}")


def test_no_output_of_a_run_shows_the_password(password_url, tmp_path):
    url, password = password_url
    path = tmp_path / "up.sql"
    path.write_text(
        "CREATE FOREIGN DATA WRAPPER rehearse_fdw;\n"
        "CREATE SERVER rehearse_srv FOREIGN DATA WRAPPER rehearse_fdw;\n"
        f"CREATE USER MAPPING FOR CURRENT_USER SERVER rehearse_srv OPTIONS (password '{password}');\n"
        "ALTER TABLE orders ADD COLUMN note text;\n"
    )
    out = tmp_path / "out.json"
    args = ["run", str(path), "--dsn", url, "--scale", "0.001", "--rate", "20", "--warmup", "0.5", "--cooldown", "0.5"]
    args += ["--allow-cluster-statements"]  # CREATE SERVER is refused without it; the unprivileged role fails it
    res = subprocess.run(
        [sys.executable, "-m", "rehearse.cli", *args, "--json", str(out)], capture_output=True, text=True
    )
    assert res.returncode in (0, 1), res.stderr  # 1 if the migration may not create a wrapper: still no password
    data = json.loads(out.read_text())
    outputs = {"stdout": res.stdout, "stderr": res.stderr, "json": out.read_text()}
    run_dir = data_dir() / "runs" / data["run_id"]
    outputs |= {str(p): _readable(p) for p in run_dir.iterdir()}
    outputs |= {str(p): p.read_text() for p in (data_dir() / "reports").glob(f"{data['run_id']}.*")}
    assert len(outputs) >= 10 and any(p.endswith(".html") for p in outputs)  # report and every parquet frame seen
    assert [where for where, text in outputs.items() if password in text] == []
    assert "password '***'" in outputs[str(run_dir / "statements.parquet")]


def _readable(path: Path) -> str:
    """A file's text, with a parquet frame's values as text too (its pages may be compressed)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv() + path.read_bytes().decode("latin-1")
    return path.read_text()
