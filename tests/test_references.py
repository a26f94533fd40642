"""Undeclared references: found by name and statistics, never over a declared foreign key, switched off or
given by hand; the twin draws such a column from its parent's keys, and adds no constraint."""

from __future__ import annotations

import json
import secrets

import pytest

import datagen
import dbserver
from common.errors import BadInput
from datagen.profile import Column, Profile, Source, Table, from_server
from datagen.profile.references import attach, revise
from rehearse.cli import main

SCHEMA = """
CREATE TABLE customers (customer_id bigint PRIMARY KEY);
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);
CREATE TABLE order_items (item_id bigint PRIMARY KEY, order_id bigint NOT NULL);
CREATE TABLE shipments (shipment_id bigint PRIMARY KEY, order_id bigint);
CREATE TABLE users (id integer PRIMARY KEY);
CREATE TABLE notes (note_id integer PRIMARY KEY, user_id integer);
INSERT INTO customers SELECT i FROM generate_series(1, 200) i;
INSERT INTO orders SELECT 3 * i, 1 + i % 200 FROM generate_series(1, 1000) i;  -- sparse ids
INSERT INTO order_items SELECT i, 3 * (1 + (i * 7) % 1000) FROM generate_series(1, 3000) i;
INSERT INTO shipments SELECT i, 50000 + i FROM generate_series(1, 800) i;  -- ids no order has
INSERT INTO users SELECT i FROM generate_series(1, 300) i;
INSERT INTO notes SELECT i, 1 + i % 300 FROM generate_series(1, 900) i;
ANALYZE;
"""


@pytest.fixture(scope="module")
def source(server):
    name = f"rehearsal_test_{secrets.token_hex(4)}"
    dbserver.create(server, name, "scratch")
    with server.connect(name) as conn:
        conn.execute(SCHEMA)
    yield server.url(name)
    dbserver.drop(server, name)


def _pairs(profile: Profile) -> dict[str, str]:
    return {f"{r.table}.{r.column}": f"{r.parent_table}.{r.parent_column}" for r in profile.inferred_references}


def test_names_and_statistics_decide(source):
    found = _pairs(from_server(source, warn=lambda message: None))
    assert found == {"public.order_items.order_id": "public.orders.order_id", "public.notes.user_id": "public.users.id"}
    # orders.customer_id has a declared foreign key; shipments.order_id lies outside the orders' ids


def test_the_off_switch_and_a_given_reference(source):
    off = from_server(source, warn=lambda message: None, infer_references=False, references=("notes.user_id=users.id",))
    assert _pairs(off) == {"public.notes.user_id": "public.users.id"}
    assert off.inferred_references[0].evidence.startswith("given")
    for bad in ("orders.customer_id=customers.customer_id", "notes.nope=users.id", "notes.user_id"):
        with pytest.raises(BadInput, match="--reference"):
            from_server(source, warn=lambda message: None, references=(bad,))


def test_an_older_profile_loads_without_references(source):
    profile = from_server(source, warn=lambda message: None, infer_references=False)
    data = json.loads(profile.to_json())
    assert data.pop("inferred_references") == []
    older = Profile.from_json(json.dumps(data))
    assert older.inferred_references is None and "inferred_references" not in older.to_json()


def test_the_twin_draws_children_from_the_parents_keys(server, source):
    profile = from_server(source, warn=lambda message: None)
    twin = datagen.build_twin(profile, 1.0, seed=5, server=server, workers=1, rebuild=True, progress=False)
    try:
        with server.connect(twin.name) as conn:
            orphans = conn.execute(
                "SELECT (SELECT count(*) FROM order_items WHERE order_id NOT IN (SELECT order_id FROM orders)),"
                " (SELECT count(*) FROM notes WHERE user_id NOT IN (SELECT id FROM users)),"
                " (SELECT count(DISTINCT order_id) FROM order_items),"
                " (SELECT count(*) FROM pg_constraint WHERE contype = 'f')"
            ).fetchone()
    finally:
        dbserver.drop(server, twin.name)
    assert orphans[:2] == (0, 0)
    assert orphans[2] > 500  # the child's own distinct count, spread over the parent's keys
    assert orphans[3] == 1  # orders.customer_id's: no constraint added for an inferred reference
    assert len(twin.manifest["inferred_references"]) == 2


def test_the_command_line(source, tmp_path, capsys):
    out = tmp_path / "profile.json"
    args = ["profile", "--production-dsn", source, "--no-infer-references", "--reference", "notes.user_id=users.id"]
    assert main([*args, "-o", str(out)]) == 0
    assert "notes.user_id → public.users.id (given" in capsys.readouterr().out
    assert [r["column"] for r in json.loads(out.read_text())["inferred_references"]] == ["user_id"]
    assert main(["profile", "--production-dsn", source, "--reference", "notes.user_id", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("FAILED: --reference notes.user_id") and err.count("\n") == 1


def test_datagen_corrects_references_without_profiling_again(source, tmp_path, capsys):
    """`rehearse datagen --profile` takes --no-infer-references and --reference, as `rehearse profile` does."""
    profile = from_server(source, warn=lambda message: None)
    assert _pairs(profile) == {
        "public.order_items.order_id": "public.orders.order_id",
        "public.notes.user_id": "public.users.id",
    }
    off = revise(profile, infer=False, given=["shipments.order_id=orders.order_id"])
    assert _pairs(off) == {"public.shipments.order_id": "public.orders.order_id"}
    moved = revise(profile, given=["notes.user_id=customers.customer_id"])
    assert _pairs(moved) == {
        "public.notes.user_id": "public.customers.customer_id",
        "public.order_items.order_id": "public.orders.order_id",
    }
    assert _pairs(revise(off, infer=False)) == _pairs(off)  # a given reference outlives the off switch
    path = profile.write(tmp_path / "profile.json")
    assert main(["datagen", "--profile", str(path), "--reference", "notes.user_id=nowhere.id"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("FAILED: --reference notes.user_id=nowhere.id") and err.count("\n") == 1


def test_leaf_partitions_are_neither_parents_nor_children():
    """pg_dump gives each leaf its own key: the root alone is the parent, and its references are the leaves'."""
    schema = """
    CREATE TABLE public.events (event_id bigint, category_id integer) PARTITION BY RANGE (event_id);
    CREATE TABLE public.events_1 (event_id bigint, category_id integer);
    ALTER TABLE ONLY public.events ATTACH PARTITION public.events_1 FOR VALUES FROM (0) TO (1000);
    ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (event_id);
    ALTER TABLE ONLY public.events_1 ADD CONSTRAINT events_1_pkey PRIMARY KEY (event_id);
    CREATE TABLE public.categories (id integer NOT NULL);
    ALTER TABLE ONLY public.categories ADD CONSTRAINT categories_pkey PRIMARY KEY (id);
    CREATE TABLE public.tags (tag_id integer, event_id bigint);
    """
    two = ("event_id", "bigint", "category_id", "integer")
    columns = {"events": two, "events_1": two, "categories": ("id", "integer"), "tags": ("event_id", "bigint")}
    tables = tuple(
        Table("public", name, columns=tuple(Column(n, t) for n, t in zip(cols[::2], cols[1::2])))
        for name, cols in columns.items()
    )
    found = _pairs(attach(Profile(Source("files", "test"), schema, tables)))
    assert found == {
        "public.tags.event_id": "public.events.event_id",
        "public.events.category_id": "public.categories.id",
    }
