"""`rehearse plan --profile FILE`: the dry run's tables as production has them (rows and sizes from the profile).

A plan reads no database; with a profile it also says how big each table the migration locks is in
production, so a reader sees which ACCESS EXCLUSIVE lock falls on a 10-row table and which on a billion-row
one. A relation the profile does not have is an index, or something the migration creates, or a name the
schema lacks: it is listed as such (the rehearsal on the twin finds out which).
"""

from __future__ import annotations

from datagen.profile.model import Profile


def production_tables(plan, profile: Profile) -> list[dict]:
    """Per relation the migration's expected locks name (first seen first): rows, sizes, strongest mode."""
    tables = {t.qualified: t for t in profile.tables}
    found: dict[str, dict] = {}
    for statement in plan.migration.statements:
        for lock in statement.expected_locks:
            row = found.setdefault(lock.relation, _row(lock.relation, tables.get(lock.relation)))
            row["modes"] = list(dict.fromkeys([*row["modes"], lock.mode]))
    return list(found.values())


def _row(relation: str, table) -> dict:
    if table is None:
        return dict(relation=relation, in_profile=False, rows=None, heap_bytes=None, index_bytes=None, modes=[])
    heap = table.heap_bytes + table.toast_bytes
    rows = max(0, round(table.reltuples))
    return dict(relation=relation, in_profile=True, rows=rows, heap_bytes=heap, index_bytes=table.index_bytes, modes=[])


def text(rows: list[dict], where: str) -> str:
    lines = [f"production, from the profile {where}:"]
    for row in rows:
        modes = ", ".join(row["modes"])
        if row["in_profile"]:
            sizes = (
                f"{row['rows']:,} rows, {_bytes(row['heap_bytes'])} heap+TOAST, {_bytes(row['index_bytes'])} indexes"
            )
            lines.append(f"  {row['relation']}: {sizes}; {modes}")
        else:
            lines.append(
                f"  {row['relation']}: not a table of the profile (an index, or made by the migration); {modes}"
            )
    return "\n".join(lines if rows else lines + ["  (the migration locks no relation)"])


def _bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
