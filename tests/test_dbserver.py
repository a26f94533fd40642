"""The bottom layer: server selection, owned databases, clone isolation, refusal of foreign databases."""

import psycopg
import pytest
from psycopg import sql

import dbserver


def test_embedded_server_is_recent(server):
    assert server.version_num >= 130000


def test_clone_is_isolated_from_its_template(server, empty_db):
    with server.connect(empty_db) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
    with dbserver.clone(server, empty_db) as scratch:
        with server.connect(scratch) as conn:
            conn.execute("INSERT INTO t VALUES (2)")
            assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 2
        assert dbserver.ownership(server, scratch) == "scratch"
    with server.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    assert not dbserver.exists(server, scratch)


def test_foreign_database_is_refused(server):
    name = "not_ours_" + psycopg.pq.version_pretty(psycopg.pq.version()).replace(".", "_")
    with server.connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with pytest.raises(dbserver.NotOurDatabase, match="not created by migration-rehearsal"):
            dbserver.drop(server, name)
        with pytest.raises(dbserver.NotOurDatabase):
            with dbserver.clone(server, name):
                pass
        assert dbserver.exists(server, name)
    finally:
        with server.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))


@pytest.mark.parametrize(
    "url, problem",
    [
        ("postgresql://nobody@127.0.0.1:1/x", "cannot connect"),
        ("not a url at all", "bad connection URL"),
    ],
)
def test_unreachable_or_bad_url_is_one_clear_error(url, problem):
    with pytest.raises(dbserver.RehearsalError, match=problem) as info:
        dbserver.open_server(url)
    assert "\n" not in str(info.value)


def test_password_is_masked():
    assert "s3cret" not in dbserver.mask("postgresql://bob:s3cret@db.example:5432/app")
    assert "***" in dbserver.mask("postgresql://bob:s3cret@db.example:5432/app")
