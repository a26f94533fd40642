"""Connection URLs: validation, per-database variants and password masking for display."""

from __future__ import annotations

import re

import psycopg.conninfo

from common.errors import BadInput


def parse(dsn: str) -> dict:
    """Split a URL or key=value string into its parts, or say clearly why it is not one."""
    try:
        return psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        first_line = str(exc).splitlines()[0]
        raise BadInput(
            f"bad connection URL {mask(dsn)!r} ({first_line}); use postgresql://user:password@host:port/dbname"
        ) from None


def with_database(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    return psycopg.conninfo.make_conninfo(dsn, dbname=dbname)


def mask(dsn: str) -> str:
    """The URL for display: any password replaced by ***, never printed (style rule 12)."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable connection string>"
    if parts.get("password"):
        parts["password"] = "***"
    host = parts.get("host", "")
    where = f"{host}:{parts['port']}" if parts.get("port") else host
    user = parts.get("user", "")
    secret = ":***" if parts.get("password") else ""
    return f"postgresql://{user}{secret}@{where}/{parts.get('dbname', '')}"


_URL = re.compile(r"postgres(?:ql)?://[^\s'\"]+")
_KEY_VALUE = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask_text(text: str) -> str:
    """Free text (an option error, a message) with every connection URL masked and password=… hidden."""
    text = _URL.sub(lambda m: mask(m.group(0)), text)
    return _KEY_VALUE.sub(lambda m: m.group(1) + "***", text)
