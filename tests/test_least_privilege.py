"""A migration confined to its scratch copy: statements that reach out are planned, refused, and fail as roles.

For each kind of statement: `plan` lists it, `run` refuses it (exit 2, one line), and with
--allow-cluster-statements it runs as the unprivileged migration role, fails (exit 1) — and nothing outside
the scratch copy changed: a bystander database, the roles, postgresql.auto.conf, the file system.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

import dbserver
from rehearse.cli import main

FAST = ["--scale", "0.001", "--seed", "42", "--rate", "20", "--clients", "2", "--warmup", "0.3", "--cooldown", "0.3"]
MARKER = Path(f"/tmp/lp_marker_{secrets.token_hex(4)}")
BYSTANDER = f"lp_bystander_{secrets.token_hex(4)}"
# (what `plan` calls it, the statement); {db} is the bystander, {superuser} the admin role
CASES = [
    ("DROP DATABASE", "DROP DATABASE {db}"),
    ("CREATE DATABASE", "CREATE DATABASE lp_new_database"),
    ("ALTER DATABASE", "ALTER DATABASE {db} SET work_mem = '1MB'"),
    ("ALTER SYSTEM", "ALTER SYSTEM SET work_mem = '1MB'"),
    ("CREATE ROLE", "CREATE ROLE lp_intruder SUPERUSER LOGIN PASSWORD 'secret-lp'"),
    ("ALTER ROLE", "ALTER ROLE rehearsal_migration SUPERUSER"),
    ("DROP ROLE", "DROP ROLE rehearsal_app"),
    ("COPY … TO PROGRAM", f"COPY (SELECT 1) TO PROGRAM 'touch {MARKER}'"),
    ("COPY … TO a server file", f"COPY (SELECT 1) TO '{MARKER}'"),
    ("COPY … FROM a server file", "COPY orders (order_status) FROM '/etc/hostname'"),
    (
        "pg_terminate_backend()",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
    ),
    ("pg_cancel_backend()", "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"),
    ("lo_import()", "SELECT lo_import('/etc/hostname')"),
    ("lo_export()", f"SELECT lo_export(lo_create(0), '{MARKER}')"),
    ("CREATE EXTENSION dblink", "CREATE EXTENSION dblink"),
    ("CREATE EXTENSION postgres_fdw", "CREATE EXTENSION postgres_fdw"),
    ("CREATE SERVER", "CREATE SERVER lp_elsewhere FOREIGN DATA WRAPPER postgres_fdw"),
    ("SET ROLE", "SET ROLE {superuser}"),
    ("SET SESSION AUTHORIZATION", "SET SESSION AUTHORIZATION {superuser}"),
]


@pytest.fixture(scope="module")
def bystander(server):
    """A database the tool did not create, with rows, and a session on it that must survive."""
    dbserver.ensure_roles(server)  # the tool's own two roles exist before any "before"
    with server.connect() as conn:
        conn.execute(f"CREATE DATABASE {BYSTANDER}")
    with server.connect(BYSTANDER) as conn:
        conn.execute("CREATE TABLE precious AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 500) g")
    session = server.connect(BYSTANDER)
    yield session
    session.close()
    with server.connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BYSTANDER} WITH (FORCE)")


def outside(server) -> dict:
    """What a confined migration must not change: bystander rows, roles, auto.conf, files."""
    with server.connect() as conn:
        data_dir = conn.execute("SHOW data_directory").fetchone()[0]
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        supers = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolsuper")}
        databases = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        db_settings = conn.execute("SELECT count(*) FROM pg_db_role_setting").fetchone()[0]
    with server.connect(BYSTANDER) as conn:
        rows = conn.execute("SELECT md5(string_agg(v, ',' ORDER BY id)) FROM precious").fetchone()[0]
    auto_conf = (Path(data_dir) / "postgresql.auto.conf").read_text()
    others = databases - {d for d in databases if d.startswith("rehearsal_")}
    return dict(rows=rows, roles=roles, supers=supers, databases=others, db_settings=db_settings, auto_conf=auto_conf)


def sql_for(server, statement: str) -> str:
    with server.connect() as conn:
        superuser = conn.execute("SELECT current_user").fetchone()[0]
    return statement.format(db=BYSTANDER, superuser=superuser) + ";\n"


@pytest.mark.parametrize("what, statement", CASES, ids=[c[0] for c in CASES])
def test_reaching_out_is_planned_refused_and_confined(server, bystander, tmp_path, capsys, what, statement):
    path = tmp_path / "up.sql"
    path.write_text("ALTER TABLE orders ADD COLUMN note text;\n" + sql_for(server, statement))
    plan_json = tmp_path / "plan.json"
    assert main(["plan", str(path), "--json", str(plan_json)]) == 0
    listed = json.loads(plan_json.read_text())["cluster_statements"]
    assert [(r["index"], r["what"]) for r in listed] == [(2, what)]
    assert what in capsys.readouterr().out
    before = outside(server)

    assert main(["run", str(path), *FAST, "--no-report"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("FAILED: statement 2")
    assert what in err and "--allow-cluster-statements" in err

    out = tmp_path / "out.json"
    assert main(["run", str(path), *FAST, "--no-report", "--allow-cluster-statements", "--json", str(out)]) == 1
    statements = json.loads(out.read_text())["statements"]
    assert statements[0]["status"] == "ok" and statements[1]["status"] == "failed"
    assert statements[1]["ran_as"] == "rehearsal_migration"
    assert statements[1]["error"]["sqlstate"] in ("42501", "0A000", "42704", "58P01")
    assert outside(server) == before
    assert not MARKER.exists()
    assert not bystander.closed and bystander.execute("SELECT 1").fetchone() == (1,)


def test_set_role_to_an_ordinary_role_is_only_marked(server, tmp_path, capsys):
    path = tmp_path / "up.sql"
    path.write_text("SET ROLE rehearsal_app;\n")
    assert main(["plan", str(path)]) == 0
    assert "SET ROLE rehearsal_app (refused if rehearsal_app is a superuser" in capsys.readouterr().out
    out = tmp_path / "out.json"
    assert main(["run", str(path), *FAST, "--no-report", "--json", str(out)]) == 1  # not refused: it runs
    failed = json.loads(out.read_text())["statements"][0]
    assert failed["status"] == "failed" and failed["error"]["sqlstate"] == "42501"  # not a member: PostgreSQL stops it


def test_roles_are_ordinary_and_own_the_scratch_copy(server):
    import datagen

    roles = dbserver.ensure_roles(server)
    with server.connect() as conn:
        attributes = conn.execute(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, "
            "pg_has_role(oid, 'pg_execute_server_program', 'MEMBER') OR "
            "pg_has_role(oid, 'pg_write_server_files', 'MEMBER') OR pg_has_role(oid, 'pg_read_server_files', 'MEMBER') "
            "FROM pg_roles WHERE rolname IN ('rehearsal_migration', 'rehearsal_app') ORDER BY 1"
        ).fetchall()
    assert attributes == [(name, False, False, False, True, False) for name in ("rehearsal_app", "rehearsal_migration")]
    dataset = datagen.build(scale=0.001, seed=42, server=server)
    with dbserver.clone_for(server, roles, dataset.name) as scratch:
        with server.connect(scratch) as conn:
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
            ).fetchall()
        assert owners == [("rehearsal_migration",)]
        with roles.migration.connect(scratch) as conn:
            conn.execute("CREATE TABLE made_later (id serial PRIMARY KEY, v text)")
            conn.execute("RESET ROLE")  # logged in as the role, not SET ROLE from a superuser: nothing to undo
            assert conn.execute("SELECT current_user").fetchone() == ("rehearsal_migration",)
        with roles.app.connect(scratch) as conn:
            assert conn.execute("INSERT INTO made_later (v) VALUES ('x') RETURNING id").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] > 0
            with pytest.raises(Exception, match="permission denied"):
                conn.execute("CREATE TABLE app_made (id int)")


def test_workload_runs_as_the_app_role_and_untrusted_extension_is_logged(tmp_path):
    from rehearse import run
    from rehearse.analysis.summary import summary

    path = tmp_path / "up.sql"
    path.write_text(
        "CREATE EXTENSION pg_trgm;\nCREATE EXTENSION pg_buffercache;\nALTER TABLE orders ADD COLUMN n text;\n"
    )
    result = run(path, scale=0.001, seed=42, rate=50, clients=2, warmup=1, cooldown=0.5)
    data = summary(result)
    assert [s["ran_as"] for s in data["statements"]] == [
        "rehearsal_migration",
        data["statements"][1]["ran_as"],
        "rehearsal_migration",
    ]
    assert data["statements"][1]["ran_as"].startswith("superuser ")
    assert [s["status"] for s in data["statements"]] == ["ok", "ok", "ok"]
    assert result.manifest.roles == {"migration": "rehearsal_migration", "app": "rehearsal_app"}
    workload = result.frames["workload"]
    assert len(workload) > 20 and workload.ok.all()
