"""The rewritten migration a remedy stands in: the same migration with one statement replaced by its rewrite.

A rewrite only helps when each of its steps commits on its own (a CHECK added NOT VALID, then validated in
the same transaction, would keep the first step's ACCESS EXCLUSIVE through the scan; CONCURRENTLY refuses a
transaction block). So the file is written in the engine's no-transaction mode (`-- rehearse:no-transaction`,
see rehearse.sql.migration) with every transaction of the original spelled out as BEGIN … COMMIT, and the
rewrite's steps between them, each on its own. The transaction that held the replaced statement is cut in
two around it: what ran before it commits first, what ran after it runs in a transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from rehearse.sql.migration import NO_TRANSACTION, Migration, split
from rehearse.sql.secrets import mask

_ENDS = ("COMMIT", "ROLLBACK", "PREPARE TRANSACTION")


@dataclass(frozen=True)
class RewrittenFile:
    """The rewritten migration: `text` runs; `shown` is what is written (secrets masked, as a saved run masks
    them); the rewrite is statements first … first + count - 1 of it."""

    text: str
    shown: str
    first: int
    count: int

    def migration(self, name: str, source: str) -> Migration:
        """The text as a migration the engine runs, its statements located in the written file."""
        return Migration(name, tuple(split(self.text, source)), None, (source,), path=source)


def rewritten(migration: Migration, index: int, steps: tuple[str, ...], about: str) -> RewrittenFile:
    """`migration` with statement `index` replaced by `steps`; `about`: the comment heading the file."""
    out = _Out([f"-- {NO_TRANSACTION}", *(f"-- {line}" for line in about.splitlines())])
    for unit in migration.transactions():
        target = next((s for s in unit if s.index == index), None)
        if target is None:
            out.unit(unit)
            continue
        explicit = unit[0].kind == "BEGIN"
        body = [s for s in unit if s.kind not in ("BEGIN", *_ENDS)]
        before = [s for s in body if s.index < index]
        after = [s for s in body if s.index > index]
        out.block(before, "COMMIT")
        out.first = out.count + 1
        for step in steps:
            out.add(step, step)
        out.block(after, unit[-1].sql if explicit and unit[-1].kind in _ENDS else "COMMIT")
    return RewrittenFile("\n".join(out.text) + "\n", "\n".join(out.shown) + "\n", out.first, len(steps))


class _Out:
    """The lines being written, the statements counted as the engine will number them."""

    def __init__(self, header: list[str]):
        self.text, self.shown, self.count, self.first = list(header), list(header), 0, 0

    def add(self, sql: str, shown: str) -> None:
        self.text.append(f"{sql};")
        self.shown.append(f"{shown};")
        self.count += 1

    def unit(self, unit) -> None:
        """A transaction as it ran: alone, spelled out as written, or the implicit one wrapped."""
        if unit[0].transaction == 0 or unit[0].kind == "BEGIN":
            for st in unit:
                self.add(st.sql, mask(st.sql))
        else:
            self.block(unit, "COMMIT")

    def block(self, statements, end: str) -> None:
        if not statements:
            return
        self.add("BEGIN", "BEGIN")
        for st in statements:
            self.add(st.sql, mask(st.sql))
        self.add(end, end)
