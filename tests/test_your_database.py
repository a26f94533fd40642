"""Rehearsing on the user's own schema: the twin of a profile (--profile) and a copy of their database
(--from-database), with no traffic by default, the rollback check, and the profile's rows as production."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from types import SimpleNamespace

import psycopg
import pytest

import dbserver
from common.errors import BadInput
from rehearse.extrapolate.production import resolve_production, rows_and_origin
from rehearse.measure.config import RehearsalConfig
from rehearse.measure.runner import run
from tests.twin_profile import profile_of

SHOP = """
CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE invoices (
    id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts (id),
    amount numeric(10,2), issued timestamptz NOT NULL DEFAULT now(), note text
);
INSERT INTO accounts (name) SELECT 'account ' || i FROM generate_series(1, 300) i;
INSERT INTO invoices (account_id, amount, note)
SELECT 1 + i % 300, (i % 1000) / 7.0, CASE WHEN i % 5 = 0 THEN NULL ELSE md5(i::text) END
FROM generate_series(1, 6000) i;
CREATE INDEX invoices_account ON invoices (account_id);
ANALYZE;
"""
UP = "ALTER TABLE invoices ALTER COLUMN amount TYPE double precision;\nCREATE INDEX invoices_issued ON invoices (issued);\n"
DOWN = "DROP INDEX invoices_issued;\nALTER TABLE invoices ALTER COLUMN amount TYPE numeric(10,2);\n"
QUIET = dict(warmup=0.2, cooldown=0.2)
CHECKSUM = "SELECT md5(string_agg(i::text, ',' ORDER BY i.id)) FROM invoices i"
WRITES = "SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = %s"


@pytest.fixture(scope="module")
def shop(server):
    """A database the tool did not make (the user's own), dropped with plain SQL afterwards."""
    name = f"user_shop_{secrets.token_hex(3)}"
    with server.connect() as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with server.connect(name) as conn:
        conn.execute(SHOP)
    with server.connect(name, autocommit=True) as conn:
        # Vacuumed and analysed now, so autovacuum has nothing left to write here while the test watches
        # the database's write counters (its ANALYZE writes pg_statistic rows of this database).
        conn.execute("VACUUM (ANALYZE)")
    yield name
    with server.connect() as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def profile_file(server, shop, tmp_path_factory):
    return str(profile_of(server, shop).write(tmp_path_factory.mktemp("profile") / "profile.json"))


@pytest.fixture
def migration(tmp_path):
    (tmp_path / "up.sql").write_text(UP)
    (tmp_path / "down.sql").write_text(DOWN)
    return str(tmp_path)


def _statement(result, index: int):
    return result.statements.set_index("index").loc[index]


def test_rehearsal_on_the_twin_sees_the_users_tables_without_traffic(profile_file, migration):
    result = run(migration, profile=profile_file, scale=0.5, rollback=True, **QUIET)
    first = _statement(result, 1)
    assert first.status == "ok" and "public.invoices" in set(first.rewritten)
    locks = result.frames["statement_locks"]
    assert ("public.invoices", "AccessExclusiveLock") in set(zip(locks.relation, locks["mode"], strict=True))
    assert len(result.workload) == 0 and result.manifest.config.app_rate == 0.0
    assert result.manifest.dataset_manifest["kind"] == "twin"
    assert result.manifest.dataset_manifest["rows"]["public.invoices"] == 3000
    assert result.manifest.rollback.restored is True


def test_the_built_in_app_is_refused_on_a_users_schema_in_one_line(profile_file, migration):
    with pytest.raises(BadInput, match="--rate 200"):
        RehearsalConfig(profile=profile_file, rate=200)
    with pytest.raises(BadInput, match="not both"):
        RehearsalConfig(profile=profile_file, from_database="x")
    assert RehearsalConfig().app_rate == 200.0 and RehearsalConfig(rate=0).app_rate == 0.0
    args = [sys.executable, "-m", "rehearse.cli", "run", migration, "--profile", profile_file, "--rate", "50"]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "FAILED: --rate 50" in done.stderr


def _source_state(server, name: str) -> tuple:
    time.sleep(1.2)  # backends flush their statistics counters about once a second
    with server.connect(name) as conn:
        checksum = conn.execute(CHECKSUM).fetchone()[0]
    with server.connect() as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return checksum, conn.execute(WRITES, (name,)).fetchone()


def test_a_copy_of_the_users_database_is_ours_and_the_source_is_only_read(server, shop, migration):
    before = _source_state(server, shop)
    result = run(migration, from_database=shop, **QUIET)
    assert result.manifest.dataset_manifest["method"] == "template"
    assert "public.invoices" in set(_statement(result, 1).rewritten)
    assert result.manifest.dataset_manifest["rows"]["public.invoices"] == 6000
    copy = result.manifest.dataset
    assert dbserver.ownership(server, copy) == "template"
    with psycopg.connect(server.url(shop)):  # someone is connected: the copy goes through pg_dump | pg_restore
        busy = run(migration, from_database=shop, **QUIET)
    assert busy.manifest.dataset_manifest["method"] == "pg_dump"
    assert "public.invoices" in set(_statement(busy, 1).rewritten)
    assert _source_state(server, shop) == before
    assert dbserver.ownership(server, shop) is None


def test_bad_sources_are_refused(server, migration):
    with pytest.raises(BadInput, match="no such database"):
        run(migration, from_database="no_such_database_here", **QUIET)
    with pytest.raises(BadInput, match="one size"):
        rows_and_origin({"from_database": "x"}, None, None)


def test_the_extrapolation_projects_to_the_profiles_rows(profile_file):
    rows, origin = rows_and_origin({"profile": profile_file}, None, None)
    assert rows == {"public.accounts": 300, "public.invoices": 6000} and origin.startswith("profile")
    largest = SimpleNamespace(
        manifest=SimpleNamespace(scale=0.1, dataset_manifest={"rows": {"public.accounts": 30, "public.invoices": 600}})
    )
    production = resolve_production(largest, {"public.invoices": 6000}, origin=origin)
    assert production.rows == {"public.accounts": 300, "public.invoices": 6000}
    assert rows_and_origin({"profile": profile_file}, {"public.invoices": 9}, None) == (
        {"public.invoices": 9},
        "--production-rows",
    )


def test_a_missing_extension_names_the_server_that_has_it(server, tmp_path):
    import datagen
    from datagen.profile.model import Profile, Source

    schema = "CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;\nCREATE TABLE places (id int PRIMARY KEY);\n"
    profile = Profile(Source("files", "schema.sql"), schema)
    with pytest.raises(BadInput) as failure:
        datagen.build_twin(profile, 0.1, server=server)
    message = str(failure.value)
    assert "postgis in postgresql-15-postgis-3" in message and "--postgres-bin /usr/lib/postgresql/15/bin" in message
    assert "\n" not in message
