"""Other PostgreSQL versions: a local installation started by us (Debian's postgresql-15), a rehearsal on it,
and one statement whose behaviour differs between 15 and the embedded 18."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import dbserver
from common.paths import data_dir
from dbserver import BadInput, local
from rehearse import run
from rehearse.analysis.summary import summary
from rehearse.cli import main
from rehearse.measure.versions import GENERATED_COLUMN, GENERATED_COLUMN_STORED, PG15_BIN, compare_versions

needs_pg15 = pytest.mark.skipif(
    not os.access(Path(PG15_BIN) / "initdb", os.X_OK),
    reason=f"PostgreSQL 15 not installed in {PG15_BIN} (`make postgres15` runs apt-get install postgresql-15)",
)


def test_a_directory_without_postgres_is_one_line(tmp_path):
    with pytest.raises(BadInput, match=f"--postgres-bin {tmp_path}: no initdb") as info:
        dbserver.open_server(postgres_bin=str(tmp_path))
    assert "\n" not in str(info.value)
    with pytest.raises(BadInput, match="not both"):
        dbserver.open_server("postgresql://x@localhost/x", postgres_bin=str(tmp_path))
    assert main(["server", "status", "--postgres-bin", str(tmp_path)]) == 2


@needs_pg15
def test_local_server_is_started_reused_and_stopped(capsys):
    first = dbserver.open_server(postgres_bin=PG15_BIN)
    assert 150000 <= first.version_num < 160000
    assert dbserver.open_server(postgres_bin=PG15_BIN).dsn == first.dsn  # reused: same socket, same port
    assert (data_dir() / "postgres-15" / "PG_VERSION").exists()
    assert first.postmaster_pid() == local.running_servers()[15]
    assert main(["server", "stop", "--postgres-bin", PG15_BIN]) == 0
    assert 15 not in local.running_servers()
    assert dbserver.open_server(postgres_bin=PG15_BIN).version_num == first.version_num  # started again
    assert main(["server", "status", "--postgres-bin", PG15_BIN]) == 0
    assert "PostgreSQL 15 running" in capsys.readouterr().out


@needs_pg15
def test_generated_column_is_catalogue_only_on_18_and_refused_by_15():
    frame = compare_versions(GENERATED_COLUMN, bins=[None, PG15_BIN]).set_index("version")
    v18 = frame.loc[[v for v in frame.index if v.startswith("18")][0]]
    v15 = frame.loc[[v for v in frame.index if v.startswith("15")][0]]
    assert v18.status == "ok" and v18.strongest_lock == "AccessExclusiveLock" and not v18.rewrote
    assert v15.status == "failed" and v15.sqlstate == "42601"  # 15 knows only STORED generated columns
    stored = compare_versions(GENERATED_COLUMN_STORED, bins=[None, PG15_BIN])
    assert stored.rewrote.all() and (stored.strongest_lock == "AccessExclusiveLock").all()
    assert all("public.orders" in rewritten for rewritten in stored.rewritten)


@needs_pg15
def test_rehearsal_on_15_records_the_version_and_checks_queries_with_prepare(tmp_path):
    up, queries = tmp_path / "up.sql", tmp_path / "queries.sql"
    up.write_text("ALTER TABLE orders RENAME COLUMN order_status TO status;")
    queries.write_text("SELECT order_status FROM orders WHERE order_id = $1;\nSELECT count(*) FROM customers;")
    result = run(
        up,
        postgres_bin=PG15_BIN,
        app_queries=str(queries),
        scale=0.01,
        seed=4242,
        rate=100,
        clients=4,
        warmup=1.0,
        cooldown=0.5,
    )
    assert result.manifest.postgres_version.startswith("15.")
    assert result.manifest.config.postgres_bin == PG15_BIN
    assert result.manifest.compatibility.method == "PREPARE"  # EXPLAIN (GENERIC_PLAN) is 16+
    [broken] = summary(result)["compatibility"]
    assert broken["name"] == "queries.sql#1" and broken["sqlstate"] == "42703" and broken["broken_by_statement"] == 1
