"""Which columns hold values a privacy review cares about, and `--no-values`: their MCVs and histogram
bounds dropped.

A column holds such values unless its type, after following domains and array element types, is one of
the plain scalar built-ins below (numbers, booleans, dates and times, uuid, network addresses, bits).
That errs on the side of dropping: text, varchar, char, citext, json, jsonb, bytea, xml, enums, composite
types and every type this list does not know (extensions' included) count as text-like.
"""

from __future__ import annotations

import re
from dataclasses import replace

from datagen.profile.model import Column, Table

SCALARS = frozenset(
    "smallint integer bigint real double precision numeric decimal boolean date money oid interval uuid "
    "inet cidr macaddr macaddr8 bit pg_lsn".split()
    + ["double precision", "bit varying"]
    + ["time without time zone", "time with time zone", "timestamp without time zone", "timestamp with time zone"]
)
_TYPMOD = re.compile(r"\([^)]*\)")


def base_name(type_text: str) -> str:
    """'character varying(80)[]' → 'character varying'; 'timestamp(3) with time zone' → 'timestamp with time zone'."""
    name = _TYPMOD.sub("", type_text).replace("[]", "").strip()
    return " ".join(name.split())


def is_text_like(type_text: str, domains: dict[str, str]) -> bool:
    """True unless the type (through domains, `domains` = {domain: its base type text}) is a plain scalar."""
    name = base_name(type_text)
    seen = set()
    while name in domains and name not in seen:  # a domain over a domain over text is still text
        seen.add(name)
        name = base_name(domains[name])
    return name not in SCALARS


def drop_values(tables: tuple[Table, ...], domains: dict[str, str]) -> tuple[tuple[Table, ...], int]:
    """The tables with the value statistics of every text-like column removed, and how many columns that was."""
    out, dropped = [], 0
    for table in tables:
        columns = []
        for column in table.columns:
            if is_text_like(column.type, domains):
                dropped += _holds_values(column)
                column = column.without_values()
            columns.append(column)
        out.append(_with_columns(table, tuple(columns)))
    return tuple(out), dropped


def _holds_values(column: Column) -> bool:
    return column.most_common_vals is not None or column.histogram_bounds is not None


def _with_columns(table: Table, columns: tuple[Column, ...]) -> Table:
    return replace(table, columns=columns)
