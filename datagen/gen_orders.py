"""Orders: when (seasonal, ids rising with time), by whom (skewed), how much (log-normal), how far along."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datagen import pools
from datagen._mix import permute_bits, splitmix64
from datagen.dirt import dirty
from datagen.gen_catalog import customer_traits
from datagen.pools import TextPool, constant, digits, hex_digits
from datagen.timeline import US_PER_DAY, US_PER_HOUR, orders_timeline, signups_timeline, unix_us
from datagen.world import World

STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
PENDING, PAID, SHIPPED, DELIVERED, CANCELLED, REFUNDED = range(6)
PAID_OR_LATER = (PAID, SHIPPED, DELIVERED, REFUNDED)

# Gateway transaction ids: 13 digits, 10**12 + a random-looking bijection of the id on 43 bits
# (2**43 < 9·10**12), so they never collide.
TX_BASE, TX_BITS = 10**12, 43
TX_SALT = {"orders": 31, "payments": 32}
BAD_TX = 21


@dataclass(frozen=True)
class OrderCore:
    """What the child tables need to know about a chunk of orders (regenerated from the same stream)."""

    ids: np.ndarray
    created: np.ndarray  # Unix µs
    status: np.ndarray  # index into STATUSES
    total_cents: np.ndarray
    paid_at: np.ndarray  # meaningful for PAID_OR_LATER
    updated: np.ndarray  # the last lifecycle step reached


def order_core(rng: np.random.Generator, world: World, first_id: int, n: int) -> OrderCore:
    """The first draws of an order chunk's stream: timestamps, amounts, lifecycle. Keep the draw order."""
    p, cal = world.params.orders, world.params.calendar
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    created = orders_timeline(cal, world.seed).stratified(rng, ids, world.n_orders)
    total = np.maximum(100, np.round(rng.lognormal(np.log(p.amount_median * 100), p.amount_sigma, n)))
    fate = rng.random(n)
    fate[ids == 1] = 1.0  # order 1 is an ordinary one: even the tiniest scale gets payments and invoices
    steps = (
        np.cumsum(
            [
                rng.exponential(p.pay_hours * US_PER_HOUR, n),
                rng.exponential(p.ship_days * US_PER_DAY, n),
                rng.exponential(p.deliver_days * US_PER_DAY, n),
                rng.exponential(p.refund_days * US_PER_DAY, n),
            ],
            axis=0,
        ).astype(np.int64)
        + created
    )  # paid, shipped, delivered, refunded at
    cancelled_at = created + rng.exponential(p.cancel_hours * US_PER_HOUR, n).astype(np.int64)
    status, updated = _lifecycle(p, unix_us(cal.end), fate, created, steps, cancelled_at)
    return OrderCore(ids, created, status, total.astype(np.int64), steps[0], updated)


def _lifecycle(p, end: int, fate, created, steps, cancelled_at) -> tuple[np.ndarray, np.ndarray]:
    """Status on the history's last day: how many steps were reached, then the special fates."""
    reached = (steps[:3] <= end).sum(axis=0)  # 0 pending … 3 delivered
    status = reached.astype(np.int8)
    times = np.vstack([created, steps[:3]])
    updated = times[reached, np.arange(len(created))]
    refunded = (fate >= p.cancelled) & (fate < p.cancelled + p.refunded) & (steps[3] <= end)
    status[refunded], updated[refunded] = REFUNDED, steps[3][refunded]
    doomed = fate < p.cancelled  # never paid: pending until cancelled
    status[doomed], updated[doomed] = PENDING, created[doomed]
    cancelled = doomed & (cancelled_at <= end)
    status[cancelled], updated[cancelled] = CANCELLED, cancelled_at[cancelled]
    abandoned = (fate >= p.cancelled + p.refunded) & (fate < p.cancelled + p.refunded + p.abandoned)
    status[abandoned], updated[abandoned] = PENDING, created[abandoned]
    return status, updated


def orders(rng: np.random.Generator, world: World, first_id: int, n: int) -> dict:
    core = order_core(rng, world, first_id, n)
    customer = _customers(rng.random(n), core.created, world)
    p = world.params.customers
    currency = TextPool([c.currency for c in p.countries])
    country = customer_traits(world.seed, world.n_customers, p).country[customer - 1]
    null = dirty(core.ids, "null_currency", world.dirt.null_currency, world.n_orders)
    return {
        "order_id": core.ids,
        "customer_id": customer,
        "order_status": TextPool(STATUSES).text(core.status),
        "transaction_id": pools.Text((transaction_ids(core.ids, "orders", world),)),
        "total_amount": core.total_cents,
        "currency": currency.text(country, null=null),
        "created_at": core.created,
        "updated_at": core.updated,
    }


def _customers(u: np.ndarray, created: np.ndarray, world: World) -> np.ndarray:
    """Who placed each order: among customers signed up by then, in proportion to their propensity."""
    p, rows = world.params.customers, world.n_customers
    signups = signups_timeline(world.params.calendar, p.signup_start, world.seed)
    # customer c signed up before the (c/rows)-quantile of the signup timeline, so these all existed
    existing = np.clip(np.floor(signups.quantile_at(created) * rows).astype(np.int64), 1, rows)
    cum = customer_traits(world.seed, rows, p).propensity_cum
    keys = u * cum[existing - 1]
    # Searching in key order walks the 8 MB array once instead of jumping around it: twice as fast.
    order = np.argsort(keys)
    chosen = np.empty(len(keys), dtype=np.int64)
    chosen[order] = np.searchsorted(cum, keys[order], side="right")
    return np.minimum(chosen, rows - 1) + 1


def transaction_ids(ids: np.ndarray, table: str, world: World) -> pools.Part:
    """13 digits per id; for orders, the dirty share becomes 'TX-' + 10 hex digits (same width)."""
    salt = int(splitmix64(np.array([world.seed]), TX_SALT[table])[0])
    matrix, _ = digits(TX_BASE + permute_bits(ids, TX_BITS, salt).astype(np.int64), 13)
    if table == "orders":
        bad = dirty(ids, "bad_transaction_ids", world.dirt.bad_transaction_ids, world.n_orders)
        if bad.any():
            tx = np.hstack([constant(b"TX-", int(bad.sum()))[0], hex_digits(splitmix64(ids[bad], BAD_TX), 10)[0]])
            matrix[bad] = tx
    return matrix, None
