"""The application's own statements as a workload: each is one transaction kind (its pglast fingerprint,
labelled `SELECT orders·1a2b3c`), chosen in proportion to its calls, its `$n` drawn from the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pglast
import psycopg
from pglast import ast

from common.errors import BadInput
from rehearse.measure.replay import sources
from rehearse.measure.replay.binding import Binder, Slot, walk
from rehearse.measure.replay.values import Untyped, Values, schema

VERBS = {"SelectStmt": "SELECT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE"}


@dataclass
class Statement:
    """One replayed statement: its kind label, fingerprint, SQL with $n, and call weight."""

    kind: str
    fingerprint: str
    sql: str
    calls: float
    rows_per_call: float | None
    where: str
    node: ast.Node = field(repr=False)
    slots: list[Slot] = field(default_factory=list)
    text: str = ""  # the SQL with %(pn)s placeholders, as psycopg sends it

    @property
    def reads_only(self) -> bool:
        return isinstance(self.node, ast.SelectStmt) and not self.node.lockingClause and not _modifies(self.node)


class ReplayApp:
    """The statements of a workload file; `prepare` types their parameters on the rehearsal database."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = str(path)
        self._take([_statement(e) for e in sources.read(path)], read_only)

    def _take(self, statements: list[Statement], read_only: bool) -> None:
        self.dropped = [s for s in statements if read_only and not s.reads_only]
        self.statements = _merged([s for s in statements if s not in self.dropped])
        self.skipped: list[dict] = [
            dict(kind=s.kind, where=s.where, sql=s.sql, reason="writes (--read-only-workload)") for s in self.dropped
        ]
        if not self.statements:
            raise BadInput(
                f"workload file {self.path} line 1: no statement left to replay "
                "(all write and --read-only-workload is on); give some reads"
            )

    @property
    def mix(self) -> dict[str, float]:
        return {kind: s.calls for kind, s in self.statements.items()}

    def prepare(self, conn: psycopg.Connection) -> None:
        """Check the tables exist, type each `$n`, sample the values; skip (with the reason) the untypable."""
        tables = schema(conn)
        binder = Binder(tables)
        for s in self.statements.values():
            missing = sorted(binder.tables(s.node) - set(tables))
            if missing:
                raise BadInput(
                    f"workload file {s.where}: table {', '.join(missing)} is not in the schema of the "
                    "rehearsal database; replay the workload on the database it came from"
                )
        reasons = {k: binder.bind(s.node) for k, s in self.statements.items()}  # first pass learns aliases
        reasons = {k: binder.bind(s.node) for k, s in self.statements.items()}
        for kind, (slots, why) in reasons.items():
            if why:
                self._skip(kind, "; ".join(why.values()))
            else:
                self.statements[kind].slots = sorted(slots.values(), key=lambda slot: slot.number)
        self.values = Values(conn, [slot for s in self.statements.values() for slot in s.slots])
        for kind in [k for k, s in self.statements.items() if any(self.values.empty(x) for x in s.slots)]:
            self._skip(kind, "a column its parameters take values from is empty")
        if not self.statements:
            raise BadInput(
                f"workload file {self.path} line 1: no statement could be typed ({self.skipped[0]['reason']}); "
                "see the skipped list"
            )

    def params(self, kind: str, rng: np.random.Generator) -> dict:
        s = self.statements[kind]
        return self.values.draw(s.slots, rng, s.rows_per_call)

    def execute(self, conn: psycopg.Connection, kind: str, params: dict) -> None:
        conn.execute(self.statements[kind].text, params)

    def saw(self, params: dict) -> None:
        """The built-in app learns new order ids here; replayed keys count up on their own."""

    def register(self, conn: psycopg.Connection) -> None:
        from psycopg.types.string import StrDumperUnknown

        conn.adapters.register_dumper(Untyped, StrDumperUnknown)

    def to_dict(self) -> dict:
        kinds = [
            dict(kind=k, fingerprint=s.fingerprint, sql=s.sql, calls=s.calls, where=s.where)
            for k, s in self.statements.items()
        ]
        return dict(file=self.path, kinds=kinds, skipped=list(self.skipped))

    def _skip(self, kind: str, reason: str) -> None:
        s = self.statements.pop(kind)
        self.skipped.append(dict(kind=kind, where=s.where, sql=s.sql, reason=reason))


def _statement(entry: sources.Entry) -> Statement:
    raw = pglast.parse_sql(entry.sql)
    if len(raw) != 1:
        raise BadInput(f"workload file {entry.where}: {len(raw)} statements in one entry; give one per entry")
    node = raw[0].stmt
    fingerprint = pglast.parser.fingerprint(entry.sql)
    return Statement(
        _label(node, fingerprint), fingerprint, entry.sql, entry.calls, entry.rows_per_call, entry.where, node
    )


def _label(node: ast.Node, fingerprint: str) -> str:
    verb = VERBS.get(type(node).__name__, type(node).__name__.removesuffix("Stmt").upper())
    relation = getattr(node, "relation", None)
    if relation is None:
        relation = next((n for n in walk(node) if isinstance(n, ast.RangeVar)), None)
    return f"{verb} {relation.relname if relation else '-'}·{fingerprint[:6]}"


def _merged(statements: list[Statement]) -> dict[str, Statement]:
    """By kind; the same statement twice (same fingerprint) adds its calls."""
    merged: dict[str, Statement] = {}
    for s in statements:
        if s.kind in merged:
            merged[s.kind].calls += s.calls
        else:
            merged[s.kind] = s
            s.text = _placeholders(s.sql)
    return merged


def _placeholders(sql: str) -> str:
    """$n → %(pn)s and % → %% for psycopg, by the scanner's tokens (a `$1` inside a string stays)."""
    out, last = [], 0
    for token in pglast.parser.scan(sql):
        if token.name == "PARAM":
            out.append(sql[last : token.start].replace("%", "%%"))
            out.append(f"%(p{sql[token.start + 1 : token.end + 1]})s")
            last = token.end + 1
    out.append(sql[last:].replace("%", "%%"))
    return "".join(out)


def _modifies(node: ast.SelectStmt) -> bool:
    with_clause = node.withClause
    return bool(with_clause) and any(not isinstance(cte.ctequery, ast.SelectStmt) for cte in with_clause.ctes or ())
