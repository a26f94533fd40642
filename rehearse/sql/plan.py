"""The dry-run view of a migration: statements, transaction units and expected locks, as text or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rehearse.sql import reach
from rehearse.sql.secrets import mask

OWN = "own (cannot run in a transaction)"
_COLUMNS = ("#", "line", "kind", "transaction", "expected locks", "sql")


@dataclass(frozen=True)
class Plan:
    """What `rehearse.plan` found; nothing has been executed."""

    migration: object  # rehearse.migration.Migration (not imported: it imports this module)

    def to_dict(self) -> dict:
        return _migration_dict(self.migration) | {
            "cluster_statements": [r.to_dict() for r in reach.find(self.migration)]
        }

    def to_text(self) -> str:
        parts = [_section("up", self.migration)]
        if self.migration.down is not None:
            parts.append(_section("down", self.migration.down))
        else:
            parts.append("down: none found (no down.sql, U… undo files or --down given)")
        parts.append(_reach_section(reach.find(self.migration)))
        return "\n\n".join(parts)


def _migration_dict(m) -> dict:
    return {
        "name": m.name,
        "sources": list(m.sources),
        "statements": [_statement_dict(s) for s in m.statements],
        "transactions": [[s.index for s in unit] for unit in m.transactions()],
        "down": _migration_dict(m.down) if m.down is not None else None,
        "notes": list(m.notes),
    }


def _statement_dict(s) -> dict:
    return {
        "index": s.index,
        "source": s.source,
        "line": s.line,
        "kind": s.kind,
        "sql": mask(s.sql),
        "transaction": s.transaction,
        "in_transaction_block": s.in_transaction_block,
        "expected_locks": [{"relation": lk.relation, "mode": lk.mode} for lk in s.expected_locks],
    }


def _section(direction: str, m) -> str:
    units = m.transactions()
    head = (
        f"{direction}: {m.name} — {len(m.statements)} statement(s) in {len(units)} unit(s), from {', '.join(m.sources)}"
    )
    several = len(m.sources) > 1
    rows = [_COLUMNS] + [_row(s, several) for s in m.statements]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] for r in rows]
    return "\n".join([head, *(line.rstrip() for line in lines)])


def _row(s, several_sources: bool) -> tuple[str, ...]:
    line = f"{Path(s.source).name}:{s.line}" if several_sources else str(s.line)
    locks = ", ".join(str(lk) for lk in s.expected_locks) or "-"
    words = " ".join(mask(s.sql).split())  # one line per statement; the exact text is in to_dict()
    sql = words if len(words) <= 60 else words[:59] + "…"
    return (str(s.index), line, s.kind, str(s.transaction) if s.transaction else OWN, locks, sql)


def _reach_section(found: list) -> str:
    if not found:
        return "outside the scratch database: nothing (no statement reaches other databases, roles or the server)"
    lines = [f"outside the scratch database: {len(found)} statement(s), refused unless --allow-cluster-statements"]
    return "\n".join(lines + [f"  {r}" for r in found])
