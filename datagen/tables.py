"""The tables in load order: columns and PostgreSQL types, generators, chunking, and the encoded chunk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from datagen import _pgbinary as pgb
from datagen import gen_catalog, gen_children, gen_orders
from datagen.dirt import Dirt
from datagen.world import BILLING_EVENTS, CUSTOMERS, ORDER_ITEMS, ORDERS, PAYMENTS, PRODUCTS, World, chunks

ENCODERS = {"int8": pgb.int8, "int4": pgb.int4, "numeric": pgb.numeric2, "timestamptz": pgb.timestamptz}


@dataclass(frozen=True)
class Table:
    """A table as the loader sees it."""

    name: str
    stream: int
    columns: tuple[tuple[str, str], ...]  # (column, type) in COPY order
    generate: Callable
    per_order: float | None  # child tables: expected rows per order, else None
    disk_bytes_per_row: int  # heap + indexes + WAL written, measured at SF 1

    @property
    def child(self) -> bool:
        return self.per_order is not None


TABLES = (
    Table(
        "customers",
        CUSTOMERS,
        (
            ("customer_id", "int8"),
            ("email", "text"),
            ("full_name", "text"),
            ("phone", "text"),
            ("street", "text"),
            ("city", "text"),
            ("country", "text"),
            ("created_at", "timestamptz"),
        ),
        gen_catalog.customers,
        None,
        400,
    ),
    Table(
        "products",
        PRODUCTS,
        (
            ("product_id", "int8"),
            ("sku", "text"),
            ("name", "text"),
            ("category", "text"),
            ("price", "numeric"),
            ("created_at", "timestamptz"),
        ),
        gen_catalog.products,
        None,
        300,
    ),
    Table(
        "orders",
        ORDERS,
        (
            ("order_id", "int8"),
            ("customer_id", "int8"),
            ("order_status", "text"),
            ("transaction_id", "text"),
            ("total_amount", "numeric"),
            ("currency", "text"),
            ("created_at", "timestamptz"),
            ("updated_at", "timestamptz"),
        ),
        gen_orders.orders,
        None,
        320,
    ),
    Table(
        "order_items",
        ORDER_ITEMS,
        (
            ("order_item_id", "int8"),
            ("order_id", "int8"),
            ("product_id", "int8"),
            ("quantity", "int4"),
            ("unit_price", "numeric"),
        ),
        gen_children.order_items,
        2.5,
        195,
    ),
    Table(
        "payments",
        PAYMENTS,
        (
            ("payment_id", "int8"),
            ("order_id", "int8"),
            ("method", "text"),
            ("status", "text"),
            ("amount", "numeric"),
            ("transaction_id", "text"),
            ("created_at", "timestamptz"),
        ),
        gen_children.payments,
        1.0,
        250,
    ),
    Table(
        "billing_events",
        BILLING_EVENTS,
        (
            ("event_id", "int8"),
            ("order_id", "int8"),
            ("kind", "text"),
            ("amount", "numeric"),
            ("created_at", "timestamptz"),
        ),
        gen_children.billing_events,
        0.5,
        205,
    ),
)
BY_NAME = {t.name: t for t in TABLES}


def world(scale: float, seed: int, dirt: Dirt | None = None) -> World:
    """The World with the exact number of order items (needed for an exact orphan count)."""
    w = World(scale=scale, seed=seed, dirt=dirt or Dirt())
    n_items = sum(int(gen_children.item_counts(w.rng(ORDER_ITEMS, k), w, n).sum()) for k, _, n in chunks(w.n_orders))
    return World(scale=scale, seed=seed, dirt=w.dirt, params=w.params, n_items=n_items)


def expected_rows(table: Table, w: World) -> int:
    if table.name == "order_items" and w.n_items:
        return w.n_items
    if table.child:
        return round(table.per_order * w.n_orders)
    return {"customers": w.n_customers, "products": w.n_products, "orders": w.n_orders}[table.name]


def generate(table: Table, w: World) -> Iterator[dict]:
    """The table's columns chunk by chunk; child tables follow the order chunks, ids carried across."""
    if not table.child:
        rows = expected_rows(table, w)
        for k, first, n in chunks(rows):
            yield table.generate(w.rng(table.stream, k), w, first, n)
        return
    first_id = 1
    for k, first, n in chunks(w.n_orders):
        core = gen_orders.order_core(w.rng(ORDERS, k), w, first, n)
        columns = table.generate(w.rng(table.stream, k), w, core, first_id)
        first_id += len(next(iter(columns.values())))
        yield columns


ENCODE_ROWS = 65_536  # encoded a slice at a time: its arrays stay in cache, twice as fast as whole chunks


def encode(table: Table, columns: dict) -> Iterator[memoryview]:
    """A chunk's rows as binary COPY data, in slices (same bytes as one piece)."""
    n = len(columns[table.columns[0][0]])
    for start in range(0, n, ENCODE_ROWS):
        part = slice(start, min(n, start + ENCODE_ROWS))
        fields = [_field(kind, columns[name][part]) for name, kind in table.columns]
        yield pgb.encode(fields, part.stop - part.start)


def _field(kind: str, values) -> pgb.Field:
    if kind == "text":
        return pgb.text(*values.parts, null=values.null)
    return ENCODERS[kind](np.asarray(values))


def copy_sql(table: Table) -> str:
    return f"COPY {table.name} ({', '.join(c for c, _ in table.columns)}) FROM STDIN WITH (FORMAT binary, FREEZE)"
