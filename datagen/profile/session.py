"""The read-only session a profile is read through, what its user may do, and pg_dump --schema-only.

Every transaction of the session is READ ONLY (`default_transaction_read_only=on`), so the server itself
refuses any write, whatever the user's privileges; a short `statement_timeout` keeps a catalogue query
from running long on a busy production. pg_dump gets the same settings through PGOPTIONS and the password
through PGPASSWORD, never on its command line (a process list would show it).
"""

from __future__ import annotations

import os
import subprocess

import psycopg

from common.errors import BadInput
from dbserver import dsn as dsnlib
from dbserver import embedded

STATEMENT_TIMEOUT_MS = 10_000
READ_ONLY = f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}"
# Tables a profile covers: the user's, not the system's, nor those an extension creates (pg_dump skips
# those too, and CREATE EXTENSION makes them again).
# rehearsal_meta is this tool's bookkeeping (a profiled template of ours has it): never part of a profile.
USER_TABLES = """
    c.relkind IN ('r', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'rehearsal_meta') AND n.nspname !~ '^pg_(toast|temp_)'
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                      AND d.deptype = 'e')"""
_PRIVILEGES = f"""
SELECT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user),
       pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE'),
       EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE pg_catalog.has_schema_privilege(n.oid, 'CREATE')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'),
       (SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE {USER_TABLES} AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')),
       (SELECT pg_catalog.array_agg(pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
                                    ORDER BY n.nspname, c.relname)
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE {USER_TABLES} AND NOT pg_catalog.has_table_privilege(c.oid, 'SELECT'))"""


def connect(url: str) -> psycopg.Connection:
    """A read-only session with types shown schema-qualified (search_path '' as pg_dump sets it)."""
    try:
        conn = psycopg.connect(url, autocommit=True, options=READ_ONLY, application_name="rehearsal-profile")
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise BadInput(f"--production-dsn {dsnlib.mask(url)}: cannot connect ({reason}); check the URL") from None
    conn.execute("SELECT pg_catalog.set_config('search_path', '', false)")
    return conn


def check_privileges(conn: psycopg.Connection, url: str) -> str | None:
    """BadInput when the user cannot read what a profile needs; a warning when it could write, else None.

    pg_stats shows a column's statistics only to users who may SELECT it, and pg_dump takes an ACCESS
    SHARE lock on each table, which needs SELECT too; pg_read_all_stats alone covers neither.
    """
    superuser, create_db, create_schema, writable, unreadable = conn.execute(_PRIVILEGES).fetchone()
    if unreadable:
        user = conn.info.user
        raise BadInput(
            f"--production-dsn {dsnlib.mask(url)}: user {user} may not SELECT {len(unreadable)} table(s) "
            f"(e.g. {unreadable[0]}), and pg_stats and pg_dump's ACCESS SHARE lock need it; "
            f"GRANT pg_read_all_data, pg_read_all_stats TO {user} (the profile still reads no row), "
            "or hand over pg_dump files with --schema and --statistics"
        )
    could = [why for why, yes in _write_reasons(superuser, create_db, create_schema, writable) if yes]
    if not could:
        return None
    return (
        f"user {conn.info.user} could write ({', '.join(could)}); profiling goes on in a read-only session, "
        "but a read-only user is safer: CREATE ROLE profiler LOGIN; GRANT pg_read_all_data, pg_read_all_stats "
        "TO profiler"
    )


def _write_reasons(superuser, create_db, create_schema, writable) -> list[tuple[str, bool]]:
    return [
        ("superuser", bool(superuser)),
        ("CREATE on the database", bool(create_db)),
        ("CREATE on a schema", bool(create_schema)),
        (f"INSERT/UPDATE/DELETE/TRUNCATE on {writable} table(s)", bool(writable)),
    ]


def dump_schema(url: str) -> str:
    """`pg_dump --schema-only` of the database at `url` by the embedded pg_dump, in a read-only session,
    with psql's meta-commands (`\\restrict` and `\\unrestrict`, a per-dump random key) removed so that a
    driver can run the text as SQL."""
    parts = dsnlib.parse(url)
    password = parts.pop("password", None)
    env = dict(os.environ, PGOPTIONS=READ_ONLY, PGAPPNAME="rehearsal-profile")
    if password:
        env["PGPASSWORD"] = password
    conninfo = psycopg.conninfo.make_conninfo(**parts)
    command = [str(embedded.tool("pg_dump")), "--schema-only", "--no-owner", "--no-privileges"]
    command += ["--exclude-schema=rehearsal_meta", "-d", conninfo]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=600)
    if done.returncode:
        errors = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines()
        raise BadInput(
            f"pg_dump --schema-only of {dsnlib.mask(url)} failed: {(errors or ['no output'])[0]}; "
            "the profile needs the schema (check the user's privileges, or give --schema FILE)"
        )
    return strip_meta_commands(done.stdout)


def strip_meta_commands(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("\\"))
