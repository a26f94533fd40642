"""A profile read from a running server (`rehearse profile --production-dsn URL`)."""

from __future__ import annotations

from collections.abc import Callable

from datagen.profile import catalog, session
from datagen.profile.model import Holds, Profile, Source
from datagen.profile.privacy import drop_values
from datagen.profile.references import attach
from dbserver import dsn as dsnlib

NO_STATISTICS = "columns without statistics (never analysed): {names}"


def from_server(
    url: str,
    values: bool = True,
    top_queries: int = 20,
    warn: Callable[[str], None] = print,
    infer_references: bool = True,
    references: tuple[str, ...] = (),
) -> Profile:
    """Schema (pg_dump --schema-only), tables, column statistics and top queries of the database at `url`,
    in a read-only session. A user that could write gets a warning through `warn`, not an error.
    `references` ("child.col=parent.col") and, when `infer_references`, undeclared ones (references.py)."""
    dsnlib.parse(url)
    with session.connect(url) as conn:
        warning = session.check_privileges(conn, url)
        if warning:
            warn(warning)
        version, version_num = conn.execute(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int"
        ).fetchone()
        tables = catalog.read_tables(conn)
        domains = catalog.read_domains(conn)
        queries, query_note = catalog.read_queries(conn, top_queries)
    schema_sql = session.dump_schema(url)
    notes = [f"schema: pg_dump --schema-only (embedded pg_dump) of PostgreSQL {version}", _stats_note(tables)]
    if not values:
        tables, dropped = drop_values(tables, domains)
        notes.append(f"no values: most common values and histogram bounds of {dropped} text-like column(s) dropped")
    notes += [query_note or f"queries: top {len(queries)} of pg_stat_statements by calls"]
    source = Source("dsn", dsnlib.mask(url), version, version_num)
    profile = Profile(source, schema_sql, tables, queries, Holds(values, tuple(n for n in notes if n)))
    return attach(profile, infer_references, references)


def _stats_note(tables) -> str | None:
    missing = [f"{t.qualified}.{c.name}" for t in tables for c in t.columns if c.null_frac is None]
    if not missing:
        return "statistics: pg_class sizes, pg_stat_user_tables rates, pg_stats of every column"
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return "statistics: pg_class, pg_stat_user_tables, pg_stats; " + NO_STATISTICS.format(names=shown)
