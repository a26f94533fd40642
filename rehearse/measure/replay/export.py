"""A pg_stat_statements-like export of the built-in application, built from its own statement texts and the
transaction counts a run recorded (the embedded server does not preload pg_stat_statements).

Normalised as pg_stat_statements does: the driver's parameters become `$1, $2, …` in order of first use
and every constant becomes the next `$n` (`'pending'` → `$3`, `LIMIT 10` → `LIMIT $4`); `calls` is the
number of transactions of the statement's kind, `rows` counts a LIMIT's rows per call (else one)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pglast

from rehearse.measure import transactions as tx

_NAMED = re.compile(r"%\((\w+)\)s")
CONSTANTS = ("SCONST", "ICONST", "FCONST")
FIELDS = ("query", "calls", "mean_exec_time", "rows")


def normalise(statement: str) -> tuple[str, int | None]:
    """(the statement as pg_stat_statements shows it, its LIMIT constant or None)."""
    order: list[str] = []

    def numbered(match: re.Match) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    text = " ".join(_NAMED.sub(numbered, statement).split())
    out, last, n, limit, previous = [], 0, len(order), None, None
    for token in pglast.parser.scan(text):
        if token.name in CONSTANTS and previous != "TYPECAST":
            n += 1
            out += [text[last : token.start], f"${n}"]
            last = token.end + 1
            if previous == "LIMIT":
                limit = int(text[token.start : token.end + 1])
        previous = token.name
    return "".join(out) + text[last:], limit


def builtin(frame: pd.DataFrame, version: str = "current") -> list[dict]:
    """One row per statement of the built-in app's query set: query, calls, mean_exec_time (ms), rows."""
    rows = []
    for kind, statements in tx.QUERIES[version].items():
        done = frame[frame.kind == kind]
        calls = len(done)
        mean = float(done.service_ms.mean() / len(statements)) if calls else 0.0
        for statement in statements:
            query, limit = normalise(statement)
            rows.append(dict(query=query, calls=calls, mean_exec_time=round(mean, 3), rows=calls * (limit or 1)))
    return rows


def write_csv(rows: list[dict], path: str | Path) -> Path:
    """What `\\copy (select query, calls, mean_exec_time, rows from pg_stat_statements) to … csv header` writes."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path
