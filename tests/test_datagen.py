"""The dataset: binary encoding, determinism, proportions, integrity, dirt, templates, bad input."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

import datagen
import dbserver
from datagen import _pgbinary as pgb
from datagen import load, names, pools, tables
from datagen.dirt import MEASURES

TINY, SMALL = 0.001, 0.002
TABLE_KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
    "billing_events": "event_id",
}


@pytest.fixture(scope="module")
def seed() -> int:
    """A seed of this test session only: concurrent sessions never share (or drop) each other's templates."""
    return 10_000 + secrets.randbelow(10**9)


@pytest.fixture(scope="module")
def built(server, seed):
    """Build templates on demand, keyed by (scale, seed, dirt); all dropped when the module ends."""
    made: dict = {}

    def get(scale=TINY, seed_=None, dirt=None, **kwargs) -> datagen.Dataset:
        dataset = datagen.build(
            scale, seed=seed if seed_ is None else seed_, dirt=dirt, server=server, progress=False, **kwargs
        )
        made[dataset.name] = dataset
        return dataset

    yield get
    for name in made:
        dbserver.drop(server, name)
        dbserver.drop(server, names.building_name(name))


def checksums(server, name: str) -> dict[str, str]:
    """md5 of every table's rows in key order: equal checksums mean identical rows."""
    with server.connect(name) as conn:
        return {
            t: conn.execute(f"SELECT md5(string_agg(t::text, '|' ORDER BY {k})) FROM {t} t").fetchone()[0]
            for t, k in TABLE_KEYS.items()
        }


def scalar(server, name: str, query: str):
    with server.connect(name) as conn:
        return conn.execute(query).fetchone()[0]


# --- the binary COPY encoder against PostgreSQL's own text input --------------------------------------


def test_binary_encoding_round_trips_through_postgres(server, empty_db):
    ints = np.array([0, 1, -1, 2**40, -(2**62)], dtype=np.int64)
    small = np.array([0, 7, -7, 2**31 - 1, -(2**31)], dtype=np.int64)
    cents = np.array([0, 1, -1, 123456, 9_999_999_999], dtype=np.int64)  # up to 99 999 999.99
    stamps = np.array([0, 946_684_800_000_000, 1_767_225_599_999_999, -1_000_000, 1_700_000_000_123_456])
    texts = ["", "plain", "Müller-Lüdenscheidt", "日本語", "x" * 300]
    codes, null = ["EUR", "USD", "GBP", "EUR", "USD"], np.array([False, True, False, False, True])
    with server.connect(empty_db) as conn:
        conn.execute("CREATE TABLE enc (i int8, s int4, n numeric(12,2), t timestamptz, x text, c char(3))")
        conn.execute("CREATE TABLE ref (LIKE enc)")
        for row in zip(ints, small, cents, stamps, texts, codes, null):
            conn.execute(
                "INSERT INTO ref VALUES (%s::text::int8, %s::text::int4, %s::text::numeric / 100, "
                "to_timestamp(%s::text::numeric / 1e6), %s, %s)",
                (str(row[0]), str(row[1]), str(row[2]), str(row[3]), row[4], None if row[6] else row[5]),
            )
        pool, cur_pool = pools.TextPool(texts), pools.TextPool(codes)
        fields = [
            pgb.int8(ints),
            pgb.int4(small),
            pgb.numeric2(cents),
            pgb.timestamptz(stamps),
            pgb.text(pool.part(np.arange(5))),
            pgb.text(cur_pool.part(np.arange(5)), null=null),
        ]
        with conn.cursor().copy("COPY enc FROM STDIN WITH (FORMAT binary)") as copy:
            copy.write(pgb.HEADER + bytes(pgb.encode(fields, 5)) + pgb.TRAILER)
        assert conn.execute("SELECT count(*) FROM enc").fetchone()[0] == 5
        assert conn.execute("SELECT count(*) FROM (TABLE enc EXCEPT ALL TABLE ref) d").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM (TABLE ref EXCEPT ALL TABLE enc) d").fetchone()[0] == 0
        # numeric arrives normalised: same text form as typed input, not just equal in value
        assert (
            conn.execute("SELECT array_agg(n::text ORDER BY i) FROM enc").fetchone()[0]
            == conn.execute("SELECT array_agg(n::text ORDER BY i) FROM ref").fetchone()[0]
        )


def test_numeric_encoder_refuses_amounts_it_cannot_represent():
    with pytest.raises(ValueError, match="too large"):
        pgb.numeric2(np.array([10**10]))


# --- determinism and proportions ---------------------------------------------------------------------


def test_same_scale_and_seed_give_identical_rows_however_the_work_is_split(server, built, seed, monkeypatch):
    first = built(TINY)
    reference = checksums(server, first.name)
    monkeypatch.setattr(load, "WORKERS", 1)  # one process loads every table, in another order
    monkeypatch.setattr(load, "LOAD_ORDER", tuple(reversed(load.LOAD_ORDER)))
    again = built(TINY, rebuild=True)
    assert again.name == first.name
    assert again.manifest["built_at"] >= first.manifest["built_at"]
    assert checksums(server, again.name) == reference
    other = built(TINY, seed_=seed + 1)
    different = checksums(server, other.name)
    assert all(different[t] != reference[t] for t in TABLE_KEYS)


def test_row_counts_scale_proportionally(server, built):
    tiny, small = built(TINY).manifest["rows"], built(SMALL).manifest["rows"]
    assert tiny["customers"] == 1000 and tiny["products"] == 100 and tiny["orders"] == 10_000
    for table in ("customers", "products", "orders"):
        assert small[table] == 2 * tiny[table]
    for table, per_order in (("order_items", 2.5), ("payments", 1.0), ("billing_events", 0.5)):
        assert small[table] == pytest.approx(2 * tiny[table], rel=0.1)
        assert tiny[table] == pytest.approx(per_order * tiny["orders"], rel=0.1)
    name = built(SMALL).name
    for table, rows in small.items():
        assert scalar(server, name, f"SELECT count(*) FROM {table}") == rows


# --- integrity, realism, dirt ------------------------------------------------------------------------


def test_clean_data_has_integrity(server, built):
    dataset = built(SMALL)
    name = dataset.name
    for query in MEASURES.values():
        assert scalar(server, name, query) == 0
    assert scalar(server, name, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated") == 4
    assert scalar(server, name, "SELECT count(*) FROM orders WHERE updated_at < created_at") == 0
    assert (
        scalar(
            server,
            name,
            "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) WHERE o.created_at < c.created_at",
        )
        == 0
    )
    # the identity sequences continue after the loaded ids: the app's inserts must not collide
    with server.connect(name) as conn:
        conn.execute("BEGIN")
        new_id = conn.execute(
            "INSERT INTO orders (customer_id, order_status, transaction_id, total_amount, "
            "created_at, updated_at) VALUES (1, 'pending', '1', 1, now(), now()) "
            "RETURNING order_id"
        ).fetchone()[0]
        conn.execute("ROLLBACK")
    assert new_id == dataset.manifest["rows"]["orders"] + 1
    assert dataset.manifest["dirt_achieved"] == dict.fromkeys(MEASURES, 0)


def test_data_looks_like_a_shop(server, built):
    name = built(SMALL).name
    statuses = dict(_rows(server, name, "SELECT order_status, count(*) FROM orders GROUP BY 1"))
    assert set(statuses) <= {"pending", "paid", "shipped", "delivered", "cancelled", "refunded"}
    assert statuses["delivered"] > sum(statuses.values()) / 2
    weekend, weekday = _rows(
        server,
        name,
        "SELECT count(*) FILTER (WHERE extract(isodow FROM created_at) >= 6)"
        " / 2.0, count(*) FILTER (WHERE extract(isodow FROM created_at) < 6) / 5.0 FROM orders",
    )[0]
    assert weekend > weekday  # weekly seasonality
    top_share = scalar(
        server,
        name,
        "SELECT sum(n)::float / (SELECT count(*) FROM orders) FROM (SELECT count(*) n "
        "FROM orders GROUP BY customer_id ORDER BY 1 DESC LIMIT (SELECT count(*) / 100 FROM customers)) t",
    )
    assert top_share > 0.05  # skew: the top 1 % buy far more than 1 %
    gap = scalar(
        server,
        name,
        "SELECT max(abs(o.total_amount - i.s)) FROM orders o JOIN (SELECT order_id, "
        "sum(quantity * unit_price) s FROM order_items GROUP BY 1) i USING (order_id)",
    )
    assert gap < Decimal("1.00")  # items add up to the order total
    start, end = _rows(server, name, "SELECT min(created_at), max(updated_at) FROM orders")[0]
    assert datetime(2022, 12, 31, tzinfo=UTC) < start and end <= datetime(2026, 1, 1, tzinfo=UTC)


def _rows(server, name: str, query: str) -> list[tuple]:
    with server.connect(name) as conn:
        return conn.execute(query).fetchall()


def test_dirt_counts_are_the_asked_shares(server, built):
    dirt = datagen.Dirt(orphan_items=0.02, duplicate_emails=0.03, null_currency=0.05, bad_transaction_ids=0.01)
    dataset = built(SMALL, dirt=dirt)
    rows = dataset.manifest["rows"]
    base = {
        "orphan_items": rows["order_items"],
        "duplicate_emails": rows["customers"],
        "null_currency": rows["orders"],
        "bad_transaction_ids": rows["orders"],
    }
    for kind, query in MEASURES.items():
        measured = scalar(dataset.server, dataset.name, query)
        asked = getattr(dirt, kind) * base[kind]
        assert measured == pytest.approx(asked, rel=0.1), kind
        assert dataset.manifest["dirt_achieved"][kind] == measured
    bad = scalar(server, dataset.name, "SELECT min(transaction_id) FROM orders WHERE transaction_id !~ '^[0-9]+$'")
    assert bad.startswith("TX-")
    assert dataset.name != built(SMALL).name


# --- templates ---------------------------------------------------------------------------------------


def test_a_complete_template_is_reused_and_rebuilt_on_request(server, built):
    first = built(TINY)
    again = built(TINY)
    assert (again.name, again.manifest["built_at"]) == (first.name, first.manifest["built_at"])
    assert datagen.info(TINY, seed=first.manifest["seed"], server=server) == first.manifest
    assert first.name in [m["name"] for m in datagen.list_templates(server)]
    assert dbserver.ownership(server, first.name) == "template"
    manifest = first.manifest
    assert manifest["versions"]["numpy"] == np.__version__ and manifest["versions"]["postgresql"] == server.version
    assert set(manifest["table_bytes"]) == set(TABLE_KEYS) and manifest["build_seconds"] > 0


def test_an_interrupted_build_leaves_nothing_and_a_killed_builds_leftover_is_not_reused(
    server, built, seed, monkeypatch
):
    scale, name = 0.0015, names.template_name(0.0015, seed, datagen.Dirt())
    building = names.building_name(name)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(datagen.finish, "foreign_keys_and_dirt", interrupt)
    with pytest.raises(KeyboardInterrupt):
        built(scale)
    assert not dbserver.exists(server, name) and not dbserver.exists(server, building)
    assert building not in dbserver.left_behind()
    assert datagen.info(scale, seed=seed, server=server) is None
    monkeypatch.undo()
    dbserver.create(server, building, "building")  # as a build killed with SIGKILL leaves it
    with server.connect(building) as conn:
        conn.execute("CREATE TABLE left_behind (x int)")
    dataset = built(scale)
    assert not dbserver.exists(server, building)
    assert scalar(server, dataset.name, "SELECT to_regclass('left_behind') IS NULL")


def test_a_build_the_disk_cannot_hold_is_refused_before_it_starts(server, seed, monkeypatch):
    if not server.embedded:
        pytest.skip("the disk check applies to the embedded server only")
    monkeypatch.setattr(datagen.disk.shutil, "disk_usage", lambda path: type("U", (), {"free": 10**6})())
    with pytest.raises(dbserver.NotEnoughDisk, match=r"needs about .* GB .* free") as info:
        datagen.build(TINY, seed=seed + 7, server=server, progress=False)
    assert "\n" not in str(info.value)
    assert not dbserver.exists(server, names.building_name(names.template_name(TINY, seed + 7, datagen.Dirt())))


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"scale": 0}, "scale 0 is not a positive number"),
        ({"scale": -1}, "scale -1 is not a positive number"),
        ({"scale": "abc"}, "scale 'abc' is not a positive number"),
        ({"scale": float("nan")}, "not a positive number"),
        ({"scale": 0.01, "seed": -1}, "seed -1 is not"),
        ({"scale": 0.01, "seed": 1.5}, "seed 1.5 is not"),
    ],
)
def test_bad_build_arguments_are_one_line_errors(kwargs, problem):
    with pytest.raises(dbserver.BadInput, match=problem) as info:
        datagen.build(**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs", [{"orphan_items": 1.5}, {"null_currency": -0.1}, {"duplicate_emails": "x"}, {"bad_transaction_ids": True}]
)
def test_dirt_outside_zero_to_one_is_refused(kwargs):
    with pytest.raises(dbserver.BadInput, match="give a number from 0 to 1") as info:
        datagen.Dirt(**kwargs)
    assert "\n" not in str(info.value)


def test_template_names_follow_scale_seed_and_dirt():
    clean = datagen.Dirt()
    assert names.template_name(0.1, 42, clean) == "rehearsal_tpl_sf0_1_s42"
    assert names.template_name(1, 42, clean) == "rehearsal_tpl_sf1_s42"
    dirty = names.template_name(0.1, 42, datagen.Dirt(null_currency=0.01))
    assert dirty.startswith("rehearsal_tpl_sf0_1_s42_") and dirty != names.template_name(
        0.1, 42, datagen.Dirt(null_currency=0.02)
    )
    assert len(names.building_name(names.template_name(0.1234567891234, 2**63 - 1, datagen.Dirt(0.5)))) <= 63


# --- generators alone (no database) ------------------------------------------------------------------


def test_generated_emails_are_unique_and_dirty_counts_exact_across_chunks(monkeypatch):
    monkeypatch.setattr(tables, "chunks", _small_chunks)
    world = tables.world(0.002, 5, datagen.Dirt(duplicate_emails=0.1, null_currency=0.07))
    emails = [e for cols in tables.generate(tables.BY_NAME["customers"], world) for e in cols["email"].to_list()]
    assert len(emails) - len(set(emails)) == round(0.1 * len(emails))
    clean = tables.world(0.002, 5)
    clean_emails = [e for cols in tables.generate(tables.BY_NAME["customers"], clean) for e in cols["email"].to_list()]
    assert len(set(clean_emails)) == len(clean_emails)
    nulls = sum(int(cols["currency"].null.sum()) for cols in tables.generate(tables.BY_NAME["orders"], world))
    assert nulls == round(0.07 * world.n_orders)


def _small_chunks(rows: int) -> list[tuple[int, int, int]]:
    """Chunks of 700 rows instead of CHUNK: many chunks even at a tiny scale."""
    return [(k, start + 1, min(700, rows - start)) for k, start in enumerate(range(0, rows, 700))]
