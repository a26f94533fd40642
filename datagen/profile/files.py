"""A profile made without a connection, from files a DBA makes with standard tools:
`pg_dump --schema-only` (required), `pg_dump --statistics-only` (PostgreSQL 18, optional) and row counts
(`--rows orders=1000000,…`) where there are no statistics. Files carry no activity and no queries: the
rates are unknown (null) and the query list is empty.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from common.errors import BadInput
from datagen.profile.model import Column, Holds, Profile, Source, Table
from datagen.profile.privacy import drop_values
from datagen.profile.references import attach
from datagen.profile.schemafile import read_schema
from datagen.profile.statsfile import Statistics, read_statistics

ROWS_FORMAT = "TABLE=ROWS[,TABLE=ROWS…], e.g. orders=1000000,public.order_items=2500000"


def from_files(
    schema: str | Path,
    statistics: str | Path | None = None,
    rows: str | dict | None = None,
    values: bool = True,
    infer_references: bool = True,
    references: tuple[str, ...] = (),
) -> Profile:
    """The profile of the database `schema` (and `statistics`) were dumped from; BadInput in one line for
    a file that is not pg_dump output or does not parse, statistics or --rows naming an unknown table.
    References as in from_server."""
    parsed = read_schema(str(schema), _read(schema, "--schema"))
    counts = parse_rows(rows, set(parsed.tables)) if isinstance(rows, str) or rows is None else dict(rows)
    stats = read_statistics(str(statistics), _read(statistics, "--statistics"), parsed) if statistics else Statistics()
    tables = tuple(_table(name, *parsed.tables[name], stats, counts) for name in sorted(parsed.tables))
    notes = [f"schema: {Path(schema).name} (pg_dump --schema-only)", _stats_note(statistics, stats, counts, tables)]
    if not values:
        tables, dropped = drop_values(tables, parsed.domains)
        notes.append(f"no values: most common values and histogram bounds of {dropped} text-like column(s) dropped")
    notes += ["rates: unknown (files carry no activity)", "queries: none (files carry no pg_stat_statements)"]
    names = " + ".join(Path(p).name for p in (schema, statistics) if p)
    version_num = stats.version_num
    source = Source("files", names, parsed.server_version, version_num)
    profile = Profile(source, parsed.sql, tables, (), Holds(values, tuple(notes)))
    return attach(profile, infer_references, references)


def parse_rows(text: str | None, known: set[str]) -> dict[str, float]:
    """'orders=1000000,public.items=2e6' → {'public.orders': 1000000.0, …}; BadInput for an unknown table."""
    counts = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        table = name.strip() if "." in name else f"public.{name.strip()}"
        try:
            count = float(value.replace("_", "").strip())
        except ValueError:
            count = -1.0
        if not sep or count < 0:
            raise BadInput(f"--rows {text!r}: expected {ROWS_FORMAT}")
        if table not in known:
            raise BadInput(f"--rows names {table}, which --schema does not create; known: {', '.join(sorted(known))}")
        counts[table] = count
    return counts


def _read(path: str | Path, flag: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{flag} {path}: cannot read it ({exc}); give a file written by pg_dump") from None


def _table(name: str, kind: str, columns: list[Column], stats: Statistics, counts: dict) -> Table:
    schema, bare = name.split(".", 1)
    relation = stats.relations.get(name, {})
    reltuples = counts.get(name, float(relation.get("reltuples") or -1))
    columns = tuple(replace(c, **stats.attributes.get(name, {}).get(c.name, {})) for c in columns)
    return Table(schema, bare, kind, reltuples, int(relation.get("relpages") or 0), columns=columns)


def _stats_note(statistics, stats: Statistics, counts: dict, tables: tuple[Table, ...]) -> str:
    unknown = [t.qualified for t in tables if t.reltuples < 0]
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    rows = f"; no row count for {', '.join(unknown[:5])}{more}" if unknown else ""
    if not statistics:
        return f"statistics: none; row counts from --rows, column values follow per-type defaults{rows}"
    given = f"; --rows overrides {', '.join(sorted(counts))}" if counts else ""
    return f"statistics: {Path(statistics).name} (pg_dump --statistics-only){given}{rows}"
