"""Real PostgreSQL for every test: the embedded server, or the one at --dsn / $REHEARSAL_DSN."""

from __future__ import annotations

import secrets

import pytest

import dbserver


def pytest_addoption(parser):
    parser.addoption("--dsn", default=None, help="test against this PostgreSQL instead of the embedded one")


@pytest.fixture(scope="session")
def server(request) -> dbserver.Server:
    return dbserver.open_server(request.config.getoption("--dsn"))


def pytest_report_header(config):
    try:
        srv = dbserver.open_server(config.getoption("--dsn"))
        return f"PostgreSQL {srv.version} ({srv.display})"
    except dbserver.RehearsalError as exc:
        return f"PostgreSQL unavailable: {exc}"


@pytest.fixture
def empty_db(server):
    """A fresh, empty database owned by the tool, dropped after the test."""
    name = f"rehearsal_test_{secrets.token_hex(4)}"
    dbserver.create(server, name, "scratch")
    yield name
    dbserver.drop(server, name)
