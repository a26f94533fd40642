"""The synthetic application's transactions: SQL per query set and kind, and how each kind picks its ids."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import psycopg

# Explicit column lists everywhere: adding a column must not break the app, but renaming, dropping or
# retyping one it uses must (that is what a rehearsal shows). Statements of one kind run in one
# transaction, in order; a row a statement returns is merged into the parameters of the next ones
# (RETURNING order_id feeds the items), and a statement that returns no row ends the kind early.
CURRENT = {
    "place_order": (
        """INSERT INTO orders (customer_id, order_status, transaction_id, total_amount, currency,
                               created_at, updated_at)
           SELECT %(customer_id)s, 'pending', %(transaction_id)s, sum(p.price * i.qty), %(currency)s,
                  now(), now()
             FROM unnest(%(product_ids)s::bigint[], %(quantities)s::int[]) AS i (product_id, qty)
             JOIN products p USING (product_id)
           RETURNING order_id, total_amount""",
        """INSERT INTO order_items (order_id, product_id, quantity, unit_price)
           SELECT %(order_id)s, i.product_id, i.qty, p.price
             FROM unnest(%(product_ids)s::bigint[], %(quantities)s::int[]) AS i (product_id, qty)
             JOIN products p USING (product_id)""",
        """INSERT INTO payments (order_id, method, status, amount, transaction_id, created_at)
           VALUES (%(order_id)s, %(method)s, 'captured', %(total_amount)s, %(transaction_id)s, now())""",
    ),
    "read_order": (
        # the customer's view: the gateway's transaction_id is read only by the payment paths
        """SELECT order_id, customer_id, order_status, total_amount, currency, created_at, updated_at
             FROM orders WHERE order_id = %(order_id)s""",
        """SELECT order_item_id, product_id, quantity, unit_price
             FROM order_items WHERE order_id = %(order_id)s""",
    ),
    "list_recent_orders": (
        # served by orders_customer_created_idx
        """SELECT order_id, order_status, total_amount, currency, created_at
             FROM orders WHERE customer_id = %(customer_id)s
            ORDER BY created_at DESC LIMIT 10""",
    ),
    "update_status": (
        """UPDATE orders SET order_status = %(status)s, updated_at = now()
            WHERE order_id = %(order_id)s""",
    ),
    "refund": (
        """SELECT total_amount, transaction_id FROM orders WHERE order_id = %(order_id)s FOR UPDATE""",
        """INSERT INTO payments (order_id, method, status, amount, transaction_id, created_at)
           VALUES (%(order_id)s, %(method)s, 'refunded', -%(total_amount)s, %(transaction_id)s, now())""",
        """UPDATE orders SET order_status = 'refunded', updated_at = now() WHERE order_id = %(order_id)s""",
        """INSERT INTO billing_events (order_id, kind, amount, created_at)
           VALUES (%(order_id)s, 'refund', -%(total_amount)s, now())""",
    ),
}

# The next application version of migration 03's expand/contract rollout: the same transactions reading and
# writing orders.status instead of orders.order_status (payments.status is another column, untouched). It
# works once the expand step has added `status` with its sync trigger, and after the old column is gone.
NEW = {kind: tuple(s.replace("order_status", "status") for s in statements) for kind, statements in CURRENT.items()}

# Query sets by name: the application version speaking to the database; each has the same kinds and
# parameter names, so versions can share one schedule (WorkloadConfig.queries = "current,new").
QUERIES: dict[str, dict[str, tuple[str, ...]]] = {"current": CURRENT, "new": NEW}

STATUSES = ("paid", "shipped", "delivered", "cancelled")
METHODS = ("card", "paypal", "bank_transfer")
CURRENCIES = ("EUR", "USD", "GBP")
RECENT_ORDERS = 1000  # scale of the exponential skew toward the newest orders


class Ids:
    """The id ranges the app picks from, learned at start; orders the app places extend the order range."""

    def __init__(self, conn: psycopg.Connection):
        self.customers = _range(conn, "customers", "customer_id")
        self.products = _range(conn, "products", "product_id")
        self.order_lo, self.order_hi = _range(conn, "orders", "order_id")

    def customer(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.customers[0], self.customers[1] + 1))

    def product_list(self, rng: np.random.Generator, n: int) -> list[int]:
        return [int(x) for x in rng.integers(self.products[0], self.products[1] + 1, n)]

    def order(self, rng: np.random.Generator) -> int:
        """Half the time one of the newest orders (users look at what they just bought), else any."""
        lo, hi = self.order_lo, self.order_hi
        if rng.random() < 0.5:
            return hi - min(int(rng.exponential(RECENT_ORDERS)), hi - lo)
        return int(rng.integers(lo, hi + 1))

    def saw(self, params: dict) -> None:
        # Unlocked read-modify-write: a lost update only makes the range a little stale.
        if params.get("order_id", 0) > self.order_hi:
            self.order_hi = params["order_id"]


def _range(conn: psycopg.Connection, table: str, column: str) -> tuple[int, int]:
    lo, hi = conn.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
    if hi is None:
        from dbserver import BadInput

        raise BadInput(f"table {table} is empty; the workload needs a dataset (build one with datagen)")
    return int(lo), int(hi)


def place_order(rng: np.random.Generator, ids: Ids) -> dict:
    n = int(rng.integers(1, 5))
    return {
        "customer_id": ids.customer(rng),
        "product_ids": ids.product_list(rng, n),
        "quantities": [int(q) for q in rng.integers(1, 4, n)],
        "transaction_id": str(int(rng.integers(10**11, 10**12))),
        "currency": CURRENCIES[int(rng.integers(len(CURRENCIES)))],
        "method": METHODS[int(rng.integers(len(METHODS)))],
    }


def read_order(rng: np.random.Generator, ids: Ids) -> dict:
    return {"order_id": ids.order(rng)}


def list_recent_orders(rng: np.random.Generator, ids: Ids) -> dict:
    return {"customer_id": ids.customer(rng)}


def update_status(rng: np.random.Generator, ids: Ids) -> dict:
    return {"order_id": ids.order(rng), "status": STATUSES[int(rng.integers(len(STATUSES)))]}


def refund(rng: np.random.Generator, ids: Ids) -> dict:
    return {"order_id": ids.order(rng), "method": METHODS[int(rng.integers(len(METHODS)))]}


# Parameters are shared by every query set: a set may use them differently, never rename them.
PARAMS: dict[str, Callable[[np.random.Generator, Ids], dict]] = {
    "place_order": place_order,
    "read_order": read_order,
    "list_recent_orders": list_recent_orders,
    "update_status": update_status,
    "refund": refund,
}


class BuiltinApp:
    """One query set of the synthetic app as the workload sees an application: mix, prepare, params,
    execute; the versions of one run share their Ids (orders one version places, the other reads)."""

    def __init__(self, version: str, mix: dict[str, float], shared: dict):
        self.version, self.mix, self._shared = version, dict(mix), shared

    def prepare(self, conn: psycopg.Connection) -> None:
        if "ids" not in self._shared:
            self._shared["ids"] = Ids(conn)

    def register(self, conn: psycopg.Connection) -> None:
        """Nothing to add: the workload's own adapters are the built-in app's."""

    def params(self, kind: str, rng: np.random.Generator) -> dict:
        return PARAMS[kind](rng, self._shared["ids"])

    def execute(self, conn: psycopg.Connection, kind: str, params: dict) -> None:
        execute(conn, QUERIES[self.version][kind], params)

    def saw(self, params: dict) -> None:
        self._shared["ids"].saw(params)


def builtin_apps(versions: tuple[str, ...], mix: dict[str, float]) -> dict[str, BuiltinApp]:
    shared: dict = {}
    return {version: BuiltinApp(version, mix, shared) for version in versions}


def execute(conn: psycopg.Connection, statements: tuple[str, ...], params: dict) -> None:
    """Run one kind's statements as one transaction (a single statement needs no BEGIN/COMMIT)."""
    if len(statements) == 1:
        _run(conn, statements[0], params)
        return
    with conn.transaction():
        for statement in statements:
            if not _run(conn, statement, params):
                break


def _run(conn: psycopg.Connection, statement: str, params: dict) -> bool:
    """Execute, merge the first returned row into params; False when a query found nothing."""
    cur = conn.execute(statement, params)
    if cur.description is None:
        return True
    rows = cur.fetchall()
    if rows:
        params.update(zip((c.name for c in cur.description), rows[0]))
    return bool(rows)
