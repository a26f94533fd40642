"""Workload files → the application's statements with their call counts: a profile's `queries`, a
pg_stat_statements export (CSV or JSON: query, calls, mean_exec_time, rows), or a SQL file whose statements
may carry a `-- weight: N` comment. Every bad input names the file and the line (or entry)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pglast
from pglast.parser import ParseError

from common.errors import BadInput
from rehearse.sql import parse as _sqlparse

_WEIGHT = re.compile(r"--\s*weight:\s*(\S+)", re.IGNORECASE)
_FIELDS = ("query", "calls")


@dataclass(frozen=True)
class Entry:
    """One statement of the application: its SQL, how often it ran, rows it returned per call on average."""

    sql: str
    calls: float
    rows_per_call: float | None
    where: str  # "file.csv line 3": what a message about this statement names


def read(path: str | Path) -> list[Entry]:
    """The statements of a workload file, in file order; BadInput (file, line) on anything unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(
            f"workload file {path} line 1: cannot be read ({exc.__class__.__name__}); "
            "give a pg_stat_statements export (.csv/.json), a profile or a .sql file"
        ) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        entries = _from_csv(text, path.name)
    elif suffix == ".json":
        entries = _from_json(text, path.name)
    else:
        entries = _from_sql(text, path.name)
    _check_weights(entries, path.name)
    return entries


def _from_csv(text: str, name: str) -> list[Entry]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in _FIELDS if f not in (reader.fieldnames or ())]
    if missing:
        raise BadInput(
            f"workload file {name} line 1: no column {', '.join(missing)}; export pg_stat_statements "
            "with `\\copy (select query, calls, mean_exec_time, rows from pg_stat_statements) to … csv header`"
        )
    return [_entry(row, f"{name} line {reader.line_num}") for row in reader]


def _from_json(text: str, name: str) -> list[Entry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"workload file {name} line {exc.lineno}: not JSON ({exc.msg}); "
            "give a JSON array of {query, calls, mean_exec_time, rows} or a profile"
        ) from None
    if isinstance(data, dict) and "queries" in data:  # a profile: its pg_stat_statements section
        rows, label = data["queries"], "queries entry"
    else:
        rows, label = data, "entry"
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadInput(
            f"workload file {name} line 1: not a list of {{query, calls, …}} objects; "
            "give a pg_stat_statements export as a JSON array, or a profile"
        )
    return [_entry(r, f"{name} {label} {i}") for i, r in enumerate(rows, 1)]


def _entry(row: dict, where: str) -> Entry:
    if not row.get("query"):
        raise BadInput(f"workload file {where}: no query; give each row its statement text")
    calls = _number(row.get("calls"), "calls", where)
    rows = row.get("rows")
    rows_per_call = _number(rows, "rows", where) / calls if rows not in (None, "") and calls > 0 else None
    _check_parses(row["query"], where)
    return Entry(str(row["query"]).strip(), calls, rows_per_call, where)


def _from_sql(text: str, name: str) -> list[Entry]:
    entries, previous_end = [], 0
    for piece in _sqlparse.parse(text, name):
        tokens = _sqlparse._tokens(piece.sql)
        start = piece.offset + (tokens[0].start if tokens else 0)
        weights = _WEIGHT.findall(text[previous_end:start])  # the comments just before the statement
        previous_end = piece.offset + len(piece.sql)
        where = f"{name} line {_sqlparse.line_of(text, start)}"
        calls = _number(weights[-1], "weight", where) if weights else 1.0
        entries.append(Entry(text[start:previous_end], calls, None, where))
    return entries


def _number(value, what: str, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number >= 0 or number == float("inf"):
        raise BadInput(f"workload file {where}: {what} {value!r} is not a number ≥ 0; give a count of calls")
    return number


def _check_parses(sql: str, where: str) -> None:
    try:
        pglast.parse_sql(sql)
    except ParseError as exc:
        raise BadInput(
            f"workload file {where}: the statement does not parse ({exc.args[0]}); fix or remove it"
        ) from None


def _check_weights(entries: list[Entry], name: str) -> None:
    if not entries:
        raise BadInput(f"workload file {name} line 1: no statements; give the application's statements")
    if sum(e.calls for e in entries) <= 0:
        raise BadInput(
            f"workload file {name} line 1: the calls/weights sum to 0; give at least one statement a weight above 0"
        )
