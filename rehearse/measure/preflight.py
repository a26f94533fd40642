"""Preflight checks: a read-only query file run on a fresh clone of the dataset, its answer as a DataFrame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg

import datagen
import dbserver
from common.errors import BadInput
from dbserver import warm
from rehearse.measure import baseline
from rehearse.measure.config import RehearsalConfig, configure
from rehearse.measure.setup import read_setup, run_setup
from rehearse.sql import migration as migration_mod


def run(path: str | Path, config: RehearsalConfig | None = None, **options) -> pd.DataFrame:
    """The rows the last query of `path` returns on a clone of the dataset; options are RehearsalConfig fields.

    `setup` (e.g. a data fix) runs on the clone first, so a check can be repeated after the fix. The
    queries run in a READ ONLY transaction that is rolled back: a preflight file cannot change anything.
    """
    config = configure(config, options)
    queries = _queries(path)
    setup_sql = read_setup(config.setup)
    server = dbserver.open_server(config.dsn, postgres_bin=config.postgres_bin)
    dataset = datagen.build(scale=config.scale, seed=config.seed, dirt=config.dirt(), server=server, progress=False)
    ready = not config.no_warm_clone and warm.ready(server, dataset.name)  # a spare a rehearsal left: taken
    with dbserver.clone_for(server, None, dataset.name, warm_spare=ready) as scratch:
        if setup_sql:
            run_setup(server, scratch, setup_sql, config.setup)
        with server.connect(scratch, autocommit=False) as conn:
            conn.read_only = True
            try:
                answer = _answer(conn, queries, path)
            finally:
                conn.rollback()
    if ready:
        baseline.prepare_next(server, dataset.name, config)  # the next rehearsal's, in its place
    return answer


def _queries(path: str | Path) -> list[str]:
    source = Path(path)
    if not source.is_file():
        raise BadInput(f"preflight file {path} not found; give a .sql file of read-only queries")
    statements = migration_mod.split(source.read_text(encoding="utf-8-sig"), str(source))
    queries = [s.sql for s in statements if s.kind not in ("BEGIN", "COMMIT", "ROLLBACK")]
    if not queries:
        raise BadInput(f"preflight file {path} has no query; write the SELECT that finds the problem rows")
    return queries


def _answer(conn: psycopg.Connection, queries: list[str], path) -> pd.DataFrame:
    """Run every query; the last one that returned rows is the answer (an empty frame when none did)."""
    answer = pd.DataFrame()
    for number, query in enumerate(queries, start=1):
        try:
            cur = conn.execute(query)
        except psycopg.errors.ReadOnlySqlTransaction:
            raise BadInput(
                f"preflight file {path}, query {number} tries to write; a preflight only reads "
                "(put data fixes in their own file and pass it as setup)"
            ) from None
        except psycopg.Error as exc:
            raise BadInput(
                f"preflight file {path}, query {number} failed: {str(exc).splitlines()[0]}; fix the query"
            ) from None
        if cur.description is not None:
            answer = pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])
    return answer
