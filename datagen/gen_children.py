"""Rows that hang off orders: items (the total split over products), payments, billing events."""

from __future__ import annotations

import numpy as np

from datagen.dirt import ORPHAN_OFFSET, dirty
from datagen.gen_catalog import product_popularity, weighted
from datagen.gen_orders import PAID_OR_LATER, REFUNDED, OrderCore, transaction_ids
from datagen.pools import Text, TextPool
from datagen.timeline import US_PER_DAY, unix_us
from datagen.world import World

PAYMENT_KINDS = ("failed", "captured", "refunded")  # per order, in this order
BILLING_KINDS = ("invoice", "reminder_fee", "refund")


def item_counts(rng: np.random.Generator, world: World, n: int) -> np.ndarray:
    """Items per order: the first draw of an items chunk (also used to count all items up front)."""
    p = world.params.items
    return 1 + np.minimum(rng.poisson(p.extra_items_mean, n), p.max_items - 1)


def order_items(rng: np.random.Generator, world: World, core: OrderCore, first_id: int) -> dict:
    p = world.params.items
    counts = item_counts(rng, world, len(core.ids))
    parent = np.repeat(np.arange(len(core.ids)), counts)
    m = len(parent)
    ids = np.arange(first_id, first_id + m, dtype=np.int64)
    order_id = core.ids[parent]
    orphan = dirty(ids, "orphan_items", world.dirt.orphan_items, world.n_items)
    order_id[orphan] += ORPHAN_OFFSET
    product = product_popularity(world.seed, world.n_products, world.params.products).sample(rng, m) + 1
    quantity = 1 + weighted(rng.random(m), p.quantity_weights)
    # Split each order's total over its items, so the items add up to it (to within rounding).
    share = rng.exponential(1.0, m)
    share /= np.bincount(parent, share, len(core.ids))[parent]
    unit = np.maximum(1, np.round(core.total_cents[parent] * share / quantity)).astype(np.int64)
    return {
        "order_item_id": ids,
        "order_id": order_id,
        "product_id": product,
        "quantity": quantity.astype(np.int32),
        "unit_price": unit,
    }


def _paid(core: OrderCore) -> np.ndarray:
    return np.isin(core.status, PAID_OR_LATER) | (core.ids == 1)


def _rows(flags: np.ndarray, first_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, order index, kind) for every True in an (orders, kinds) matrix: per order, kinds in order."""
    parent, kind = np.nonzero(flags)
    return np.arange(first_id, first_id + len(parent), dtype=np.int64), parent, kind


def payments(rng: np.random.Generator, world: World, core: OrderCore, first_id: int) -> dict:
    """A captured payment per paid order; some after a failed attempt; refunds as a negative payment."""
    p, n = world.params.payments, len(core.ids)
    paid = _paid(core)
    retry = paid & (rng.random(n) < p.retry)
    method = weighted(rng.random(n), [w for _, w in p.methods])
    failed_at = core.created + ((core.paid_at - core.created) * rng.random(n)).astype(np.int64)
    ids, parent, kind = _rows(np.column_stack([retry, paid, core.status == REFUNDED]), first_id)
    when = np.vstack([failed_at, core.paid_at, core.updated])[kind, parent]
    sign = np.where(kind == 2, -1, 1)
    return {
        "payment_id": ids,
        "order_id": core.ids[parent],
        "method": TextPool([m for m, _ in p.methods]).text(method[parent]),
        "status": TextPool(PAYMENT_KINDS).text(kind),
        "amount": sign * core.total_cents[parent],
        "transaction_id": Text((transaction_ids(ids, "payments", world),)),
        "created_at": when,
    }


def billing_events(rng: np.random.Generator, world: World, core: OrderCore, first_id: int) -> dict:
    """Invoices for part of the paid orders, a few reminder fees, and a refund event per refund."""
    p, n = world.params.billing, len(core.ids)
    end = unix_us(world.params.calendar.end)
    invoice = (_paid(core) & (rng.random(n) < p.invoice)) | (core.ids == 1)
    reminder = invoice & (rng.random(n) < p.reminder)
    invoiced_at = np.minimum(end, core.paid_at + rng.exponential(p.invoice_days * US_PER_DAY, n).astype(np.int64))
    reminded_at = np.minimum(end, invoiced_at + rng.exponential(p.reminder_days * US_PER_DAY, n).astype(np.int64))
    ids, parent, kind = _rows(np.column_stack([invoice, reminder, core.status == REFUNDED]), first_id)
    amount = np.vstack([core.total_cents, np.full(n, p.reminder_fee_cents), -core.total_cents])[kind, parent]
    return {
        "event_id": ids,
        "order_id": core.ids[parent],
        "kind": TextPool(BILLING_KINDS).text(kind),
        "amount": amount,
        "created_at": np.vstack([invoiced_at, reminded_at, core.updated])[kind, parent],
    }
