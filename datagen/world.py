"""What every generator shares: sizes at a scale, the seed, the dirt, the distributions, chunking."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from datagen.dirt import Dirt
from datagen.params import DEFAULT, Params

# Rows (of the parent table) per chunk. Each chunk has its own random stream, so the rows do not depend on
# how chunks are spread over processes; changing CHUNK changes the data (bump GENERATOR_VERSION).
CHUNK = 250_000

# Stream numbers: one per table (per chunk) and one per whole-table trait array.
CUSTOMERS, PRODUCTS, ORDERS, ORDER_ITEMS, PAYMENTS, BILLING_EVENTS = 1, 2, 3, 4, 5, 6
CUSTOMER_TRAITS, PRODUCT_TRAITS = 80, 81


@dataclass(frozen=True)
class World:
    scale: float
    seed: int
    dirt: Dirt = field(default_factory=Dirt)
    params: Params = DEFAULT
    n_items: int = 0  # known only after counting items per order (tables.world sets it)

    def rows(self, per_scale: int) -> int:
        return max(1, round(per_scale * self.scale))

    @property
    def n_customers(self) -> int:
        return self.rows(self.params.customers.per_scale)

    @property
    def n_products(self) -> int:
        return self.rows(self.params.products.per_scale)

    @property
    def n_orders(self) -> int:
        return self.rows(self.params.orders.per_scale)

    def rng(self, stream: int, chunk: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream, chunk])


def chunks(rows: int) -> list[tuple[int, int, int]]:
    """(chunk number, first id, rows) covering ids 1..rows."""
    return [(k, start + 1, min(CHUNK, rows - start)) for k, start in enumerate(range(0, rows, CHUNK))]
