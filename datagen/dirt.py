"""Dirt: the optional, measured imperfections production data has (orphans, duplicates, NULLs, bad ids)."""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

from common.errors import BadInput
from datagen._mix import Shuffle

# Orphaned items point past every order id the app could create during a rehearsal.
ORPHAN_OFFSET = 10**12
SALTS = {"orphan_items": 101, "duplicate_emails": 102, "null_currency": 103, "bad_transaction_ids": 104}


@dataclass(frozen=True)
class Dirt:
    """Shares (0..1) of rows made dirty; each count is exact: round(rate × rows of the table)."""

    orphan_items: float = 0  # order_items whose order_id matches no order
    duplicate_emails: float = 0  # customers whose email another customer also has
    null_currency: float = 0  # orders with currency NULL
    bad_transaction_ids: float = 0  # orders whose transaction_id is not all digits ('TX-9f3a…')

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
                raise BadInput(f"dirt {f.name}={value!r} is not a share; give a number from 0 to 1")
            object.__setattr__(self, f.name, float(value))

    @property
    def clean(self) -> bool:
        return not any(dataclasses.astuple(self))

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    def count(self, kind: str, rows: int) -> int:
        """How many of `rows` this dirt makes dirty (exact, not a random draw)."""
        return round(getattr(self, kind) * rows)


def dirty(ids: np.ndarray, kind: str, rate: float, rows: int) -> np.ndarray:
    """Which of `ids` (1-based, in a table of `rows`) are dirty: exactly round(rate × rows) of all ids,
    scattered over the table by a bijection, so every chunk decides alone and the total is exact."""
    k = round(rate * rows)
    if k == 0:
        return np.zeros(len(ids), dtype=bool)
    return Shuffle(rows, SALTS[kind]).forward(ids - 1) < k


def duplicate_sources(ids: np.ndarray, rate: float, rows: int) -> np.ndarray:
    """For each dirty customer id, a clean customer whose email it copies: distinct sources, so the number
    of surplus emails (rows − distinct) is exactly the dirty count while rate ≤ 0.5."""
    shuffle = Shuffle(rows, SALTS["duplicate_emails"])
    k = round(rate * rows)
    return shuffle.inverse((shuffle.forward(ids - 1) + k) % rows) + 1


MEASURES = {
    # Each query counts what the matching dirt makes; run after the load, reported in the manifest.
    "orphan_items": "SELECT count(*) FROM order_items i "
    "WHERE NOT EXISTS (SELECT FROM orders o WHERE o.order_id = i.order_id)",
    "duplicate_emails": "SELECT count(*) - count(DISTINCT email) FROM customers",
    "null_currency": "SELECT count(*) FROM orders WHERE currency IS NULL",
    "bad_transaction_ids": "SELECT count(*) FROM orders WHERE transaction_id !~ '^[0-9]+$'",
}
