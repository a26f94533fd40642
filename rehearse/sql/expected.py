"""The locks a statement is expected to take, from its parse tree: one per relation, the strongest.

Derived by `lock_rules.derive` from the parse tree only, so some locks need the catalogue and are not listed
(see `lock_rules` for what is and is not known before the statement runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from rehearse.sql import locks
from rehearse.sql.lock_rules import as_node, derive, in_schema


@dataclass(frozen=True)
class ExpectedLock:
    """A lock a statement should take: relation as 'schema.name' (unquoted) and the pg_locks mode name."""

    relation: str
    mode: str

    def __str__(self) -> str:
        return f"{self.relation}:{self.mode}"


def expected_locks(stmt, schema: str = "public") -> tuple[ExpectedLock, ...]:
    """The table locks a statement (a pglast node or one SQL statement) takes: one per relation, strongest.

    Derived from the parse tree only, so some locks need the catalogue and are not listed: see
    `lock_rules` for what is and is not known before the statement runs. `schema`: where unqualified
    names resolve (the first schema of the search_path in force).
    """
    by_relation: dict[str, str] = {}
    with in_schema(schema):
        pairs = derive(as_node(stmt))
    for relation, mode in pairs:
        by_relation[relation] = locks.strongest((by_relation.get(relation, mode), mode))
    return tuple(ExpectedLock(relation, mode) for relation, mode in by_relation.items())
