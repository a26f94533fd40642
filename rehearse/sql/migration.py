"""A migration read from SQL files, split by PostgreSQL's own parser and grouped into transactions.

The SQL comes from rehearse/sql/readers/: plain files, a Liquibase formatted-SQL changelog (each changeset
is grouped like a file of its own) or an Alembic project (its offline SQL, BEGIN/COMMIT as Alembic wrote
them); `Migration.notes` carries what such a reader could not rehearse, e.g. a changeset with no rollback.

How statements are grouped (the engine runs `Migration.transactions()` one unit at a time):

* An explicit `BEGIN` / `START TRANSACTION` … `COMMIT` / `ROLLBACK` block is kept as written: it is one
  unit, its BEGIN and COMMIT are statements of it (kind 'BEGIN' / 'COMMIT'), and the engine runs it as is.
* Every other statement of a file joins that file's one implicit transaction, which the engine wraps in
  BEGIN … COMMIT itself — as Flyway does per file, so a failure part way leaves nothing half done.
* A statement PostgreSQL refuses inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, … see
  `_sqlkinds.runs_in_transaction`) runs on its own (`transaction == 0`) and splits the implicit
  transaction around it: the statements before and after it become two units.
* A file whose header comments contain `-- rehearse:no-transaction` runs every statement outside explicit
  blocks on its own (auto-commit), as a migration tool's "no transaction" mode does: needed for a batched
  backfill whose procedure COMMITs between batches (CALL must then run outside a transaction block).
* Such a statement inside an explicit block, a BEGIN never committed, and a COMMIT with no BEGIN are
  errors reported here, before anything runs.

Transaction ids count from 1 over the whole migration; the rollback (`down`) is numbered on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from common.errors import BadInput
from rehearse.sql import kinds as _sqlkinds
from rehearse.sql import parse as _sqlparse
from rehearse.sql import readers
from rehearse.sql.expected import ExpectedLock, expected_locks
from rehearse.sql.lock_rules import search_path_schema
from rehearse.sql.plan import Plan
from rehearse.sql.script import Script, size_limit

__all__ = ["Statement", "Migration", "Plan", "load", "split", "plan"]

_BLOCK_ENDS = ("COMMIT", "ROLLBACK", "PREPARE TRANSACTION")
NO_TRANSACTION = "rehearse:no-transaction"
_MAX_FACTS = 10_000  # trees whose kind and locks are remembered (shared by statements of one shape)


def _wants_no_transaction(text: str) -> bool:
    """True when the comment lines heading the file carry the no-transaction directive."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return False
        if stripped.lstrip("- ").lower().startswith(NO_TRANSACTION):
            return True
    return False


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a migration, where it came from, and how it will run."""

    index: int  # 1-based position in the whole migration
    sql: str  # as written, without the trailing semicolon
    source: str  # the file it came from, as given
    line: int  # 1-based line in that file where it starts
    kind: str  # short tag from the parse tree: 'ALTER TABLE', 'CREATE INDEX', 'BEGIN', …
    in_transaction_block: bool  # False for statements that cannot run inside a transaction block
    expected_locks: tuple[ExpectedLock, ...]
    transaction: int  # the unit it runs in; 0 when it runs on its own


@dataclass(frozen=True)
class Migration:
    """The statements of a migration in execution order, and its rollback when there is one."""

    name: str
    statements: tuple[Statement, ...]
    down: Migration | None
    sources: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what the reader assumed or could not rehearse (see rehearse.sql.script.Layout)
    path: str | None = None  # what it was read from, as given (None when rebuilt from a saved run)

    def transactions(self) -> list[list[Statement]]:
        """Execution units in order: each a transaction's statements, or one statement run on its own."""
        units: list[list[Statement]] = []
        for st in self.statements:
            if st.transaction and units and units[-1][0].transaction == st.transaction:
                units[-1].append(st)
            else:
                units.append([st])
        return units

    def to_dict(self) -> dict:
        """The migration as the plan's JSON: statements (sql, source, line, kind, transaction, expected locks),
        transaction units, down and notes; `from_dict` reads it back without the files or the parser."""
        return Plan(self).to_dict() | {"path": self.path}

    @classmethod
    def from_dict(cls, data: dict) -> Migration:
        down = data.get("down")
        return cls(
            name=data["name"],
            statements=tuple(_statement_from(s) for s in data["statements"]),
            down=cls.from_dict(down) if down else None,
            sources=tuple(data["sources"]),
            notes=tuple(data.get("notes", ())),
            path=data.get("path"),
        )


def _statement_from(data: dict) -> Statement:
    locks = tuple(ExpectedLock(lk["relation"], lk["mode"]) for lk in data["expected_locks"])
    fields = {k: data[k] for k in ("index", "sql", "source", "line", "kind", "in_transaction_block", "transaction")}
    return Statement(**fields, expected_locks=locks)


def load(path: str | Path | Migration, down: str | Path | None = None, max_mb: float | None = None) -> Migration:
    """Read the migration at `path` (file, up/down or Flyway folder, Liquibase changelog, Alembic project).

    `down` overrides the rollback found next to it: a .sql file, or a folder read like `path`.

    Every file is parsed before this returns, so a syntax error anywhere is reported before anything runs.
    A Migration already parsed is returned as it is: its rollback was chosen when it was parsed. A file
    over `max_mb` MB (default rehearse.sql.script.DEFAULT_MAX_MB) is refused before it is read.
    """
    if isinstance(path, Migration):
        return path
    with size_limit(max_mb):
        layout = readers.locate(path)
        if down is not None:
            given = readers.locate(down)
            layout = replace(layout, down=given.up, down_notes=given.notes)
    rollback = from_scripts(f"{layout.name} (down)", layout.down, layout.down_notes) if layout.down else None
    notes = layout.notes if rollback else layout.notes + layout.down_notes  # e.g. "no changeset has a rollback"
    return replace(from_scripts(layout.name, layout.up, notes), down=rollback, path=str(path))


def split(text: str, source: str = "<string>") -> list[Statement]:
    """The statements of one SQL text, numbered from 1 and grouped as one file (see the module docstring)."""
    return _statements(text, source, first_index=1, first_transaction=1)


def plan(path: str | Path | Migration, down: str | Path | None = None, max_mb: float | None = None) -> Plan:
    """A dry run: the statements, their transaction units and expected locks; nothing is executed."""
    return Plan(load(path, down, max_mb))


def from_scripts(name: str, scripts: tuple[Script, ...], notes: tuple[str, ...] = ()) -> Migration:
    """A migration (without rollback) from a reader's scripts, statements numbered across them."""
    statements: list[Statement] = []
    for script in scripts:
        next_tx = max((s.transaction for s in statements), default=0) + 1
        found = _statements(script.text, script.source, len(statements) + 1, next_tx, script.autocommit)
        if not found:
            raise BadInput(
                f"{script.source}: no SQL statements (only comments or blank lines); "
                "write the migration's SQL or remove the file"
            )
        statements.extend(_relocated(s, script) for s in found)
    sources = tuple(dict.fromkeys(s.source for s in statements))
    return Migration(name, tuple(statements), None, sources, tuple(notes))


def _relocated(statement: Statement, script: Script) -> Statement:
    source, line = script.origin(statement.line)
    return replace(statement, source=source, line=line) if script.origins else statement


def _statements(
    text: str, source: str, first_index: int, first_transaction: int, autocommit: bool | None = None
) -> list[Statement]:
    autocommit = _wants_no_transaction(text) if autocommit is None else autocommit
    groups = _Grouper(source, first_transaction, autocommit=autocommit)
    facts: dict[tuple, tuple] = {}  # by (tree, schema): statements of one shape share a tree (parse._Trees)
    statements, schema = [], "public"
    for i, piece in enumerate(_sqlparse.iter_parse(text, source)):
        statements.append(_statement(piece, source, first_index + i, groups.assign(piece), facts, schema))
        schema = search_path_schema(piece.node) or schema  # names after a SET search_path resolve there
    groups.finish()
    return statements


def _statement(
    piece: _sqlparse.Piece, source: str, index: int, transaction: int, facts: dict, schema: str
) -> Statement:
    node = piece.node
    known = facts.get((id(node), schema))
    if known is None or known[0] is not node:
        known = (node, _sqlkinds.kind(node), _sqlkinds.runs_in_transaction(node), expected_locks(node, schema))
        if len(facts) < _MAX_FACTS:
            facts[(id(node), schema)] = known  # holds the tree, so its id cannot pass to another one meanwhile
    _, kind, in_transaction_block, locks = known
    return Statement(
        index=index,
        sql=piece.sql,
        source=source,
        line=piece.line,
        kind=kind,
        in_transaction_block=in_transaction_block,
        expected_locks=locks,
        transaction=transaction,
    )


class _Grouper:
    """Assigns transaction ids statement by statement, checking explicit blocks as it goes."""

    def __init__(self, source: str, next_id: int, autocommit: bool = False):
        self.source, self.next_id, self.autocommit = source, next_id, autocommit
        self.current = 0  # id of the open unit, 0 when none is open
        self.begin_line = 0  # line of the open explicit BEGIN, 0 when none

    def assign(self, piece: _sqlparse.Piece) -> int:
        tag = _sqlkinds.kind(piece.node)
        if tag == "BEGIN":
            return self._begin(piece)
        if tag in _BLOCK_ENDS:
            return self._end(piece, tag)
        if not _sqlkinds.runs_in_transaction(piece.node) or (self.autocommit and not self.begin_line):
            return self._alone(piece)
        if not self.current:
            self._open()
        return self.current

    def finish(self) -> None:
        if self.begin_line:
            raise BadInput(
                f"{self.source}:{self.begin_line}: BEGIN is never committed; add COMMIT; at the end of the block"
            )

    def _open(self) -> None:
        self.current, self.next_id = self.next_id, self.next_id + 1

    def _begin(self, piece) -> int:
        if self.begin_line:
            raise BadInput(
                f"{self.source}:{piece.line}: BEGIN inside the block opened at line "
                f"{self.begin_line}; COMMIT the first block before opening another"
            )
        self._open()
        self.begin_line = piece.line
        return self.current

    def _end(self, piece, tag: str) -> int:
        if not self.begin_line:
            raise BadInput(
                f"{self.source}:{piece.line}: {tag} without BEGIN; each file already runs in "
                "one transaction, so remove it or add the BEGIN it closes"
            )
        if getattr(piece.node, "chain", False):
            raise BadInput(f"{self.source}:{piece.line}: {tag} AND CHAIN is not supported; write {tag}; BEGIN; instead")
        unit, self.current, self.begin_line = self.current, 0, 0
        return unit

    def _alone(self, piece) -> int:
        if self.begin_line:
            words = " ".join(piece.sql.split())
            shown = words if len(words) <= 40 else words[:39] + "…"
            raise BadInput(
                f"{self.source}:{piece.line}: {shown} cannot run inside a transaction block; "
                f"move it out of BEGIN…COMMIT (the block opened at line {self.begin_line})"
            )
        self.current = 0  # the implicit transaction ends here; statements after it start a new one
        return 0
